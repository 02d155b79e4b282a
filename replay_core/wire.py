"""Framing for the sandbox pipe: a small JSON header, then raw numpy bytes.

Nothing from the sandboxed process is ever unpickled: the parent parses a bounded JSON header and
reads arrays of the dtypes and shapes it expects, so hostile bytes cannot execute code here.
"""
from __future__ import annotations

import json
import struct
from typing import BinaryIO

import numpy as np

MAX_HEADER = 1 << 20
MAX_PAYLOAD = 1 << 31
ALLOWED_DTYPES = {"bool", "int32", "int64", "float32", "float64"}


class WireError(RuntimeError):
    """A malformed or oversized message."""


def send(stream: BinaryIO, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    arrays = arrays or {}
    blobs, specs = [], []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        specs.append([name, array.dtype.name, list(array.shape)])
        blobs.append(array.tobytes())
    head = json.dumps({**header, "arrays": specs, "nbytes": sum(len(b) for b in blobs)}).encode()
    stream.write(struct.pack(">I", len(head)) + head)
    for blob in blobs:
        stream.write(blob)
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(stream: BinaryIO) -> tuple[dict, dict[str, np.ndarray]]:
    (size,) = struct.unpack(">I", _read_exact(stream, 4))
    if size > MAX_HEADER:
        raise WireError(f"header of {size} bytes is too large")
    try:
        header = json.loads(_read_exact(stream, size))
    except (ValueError, UnicodeDecodeError) as err:
        raise WireError(f"header is not JSON ({err})") from None
    if not isinstance(header, dict):
        raise WireError("header is not an object")
    nbytes = header.get("nbytes", 0)
    if not isinstance(nbytes, int) or not 0 <= nbytes <= MAX_PAYLOAD:
        raise WireError("bad payload size")
    arrays: dict[str, np.ndarray] = {}
    used = 0
    for spec in header.get("arrays", []):
        if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str)
                and spec[1] in ALLOWED_DTYPES and isinstance(spec[2], list)
                and all(isinstance(d, int) and 0 <= d < 1 << 31 for d in spec[2])):
            raise WireError(f"bad array spec {str(spec)[:80]}")
        name, dtype, shape = spec
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        size = count * np.dtype(dtype).itemsize
        used += size
        if used > nbytes:
            raise WireError("arrays overrun the payload")
        arrays[name] = np.frombuffer(_read_exact(stream, size), dtype=dtype).reshape(shape)
    if used != nbytes:
        raise WireError("payload size does not match its arrays")
    return header, arrays
