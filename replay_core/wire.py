"""Framing for the sandbox pipes: a 4-byte length, a small JSON header, then raw numpy bytes.

Nothing from the sandbox is ever unpickled, and the parent never trusts a reply: `Reader.receive`
with an `expect` spec checks the header's kind, field names and types, and the exact dtype and
shape of every array, before it reads one payload byte, and every read has a deadline. A reply
that breaks any rule is a `WireError` with a short reason.
"""
from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from dataclasses import dataclass, field

import numpy as np

MAX_HEADER = 16 << 10          # replies are a kind, a few scalars and array specs: 16 KiB is plenty
MAX_TRUSTED_HEADER = 1 << 20   # messages from the parent (observation specs, the candidate's source)
MAX_ERROR_CHARS = 400
ALLOWED_DTYPES = frozenset({"bool", "int8", "int32", "int64", "float32", "float64"})


class WireError(RuntimeError):
    """A malformed, oversized or unexpected message."""


_NAMES = {np.dtype(name): name for name in ALLOWED_DTYPES}
"""dtype -> wire name: a dict lookup (numpy's `dtype.name` is Python code, ~10 us a call)."""
_ITEMSIZE = {name: np.dtype(name).itemsize for name in ALLOWED_DTYPES}


def encode(header: dict, arrays: dict[str, np.ndarray] | None = None) -> list[bytes | memoryview]:
    """One message as its pieces: the length and header, then each array's bytes in place (no
    copy into one buffer; `write_all` hands them to the kernel in one call)."""
    specs, blobs = [], []
    for name, array in (arrays or {}).items():
        array = np.ascontiguousarray(array)
        specs.append([name, _NAMES.get(array.dtype) or array.dtype.name, list(array.shape)])
        blobs.append(array.data)
    head = json.dumps({**header, "arrays": specs}, separators=(",", ":")).encode()
    return [struct.pack(">I", len(head)) + head, *blobs]


@dataclass(frozen=True)
class Expect:
    """What a reply may be: its kind, its scalar fields with their types, and its arrays exactly."""

    kind: str
    fields: dict[str, type | tuple[type, ...]] = field(default_factory=dict)
    arrays: tuple[tuple[str, str, tuple[int, ...]], ...] = ()


def check(header: object, expected: tuple[Expect, ...]) -> tuple[dict, Expect]:
    """The header if it is exactly one of the expected messages; a `WireError` otherwise."""
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        raise WireError("the reply is not a message")
    match = next((e for e in expected if e.kind == header["kind"]), None)
    if match is None:
        raise WireError(f"unexpected reply kind {header['kind'][:40]!r}")
    if set(header) != {"kind", "arrays", *match.fields}:
        raise WireError(f"the {match.kind!r} reply has the wrong fields")
    for name, kind in match.fields.items():
        value = header[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            raise WireError(f"field {name!r} of the {match.kind!r} reply has the wrong type")
    wanted = [[name, dtype, list(shape)] for name, dtype, shape in match.arrays]
    if header["arrays"] != wanted:
        raise WireError(f"the {match.kind!r} reply carries the wrong arrays")
    return header, match


class Reader:
    """Reads messages from a file descriptor, each within a deadline (monotonic seconds).

    It reads exactly what the message announces (never past its end), and each message's arrays
    into one fresh buffer: no copies beyond the kernel's, and nothing shared between messages."""

    def __init__(self, fd: int, max_header: int = MAX_HEADER):
        self.fd = fd
        self.max_header = max_header

    def _read_into(self, view: memoryview, deadline: float) -> None:
        got = 0
        while got < len(view):
            if deadline != float("inf"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                    raise TimeoutError
            n = os.readv(self.fd, [view[got:]])
            if not n:
                raise EOFError("the other side closed the pipe")
            got += n

    def _take(self, n: int, deadline: float) -> bytearray:
        out = bytearray(n)
        self._read_into(memoryview(out), deadline)
        return out

    def receive(self, deadline: float = float("inf"), expect: tuple[Expect, ...] | None = None
                ) -> tuple[dict, dict[str, np.ndarray]]:
        """The next message. With `expect`, anything but one of those messages is a `WireError`,
        raised before any payload is read. Its arrays are read-only."""
        (size,) = struct.unpack(">I", self._take(4, deadline))
        if size > self.max_header:
            raise WireError(f"a header of {size} bytes is larger than the {self.max_header} allowed")
        try:
            header = json.loads(self._take(size, deadline))
        except (ValueError, RecursionError) as err:
            raise WireError(f"the header is not valid JSON ({type(err).__name__})") from None
        if expect is not None:
            header, match = check(header, expect)
            specs = match.arrays
        else:
            specs = _trusted_specs(header)
        sizes = [math.prod(shape) * (_ITEMSIZE.get(dtype) or np.dtype(dtype).itemsize) for _, dtype, shape in specs]
        payload = np.empty(sum(sizes), np.uint8)
        self._read_into(memoryview(payload), deadline)
        payload.flags.writeable = False
        arrays, at = {}, 0
        for (name, dtype, shape), nbytes in zip(specs, sizes):
            arrays[name] = payload[at:at + nbytes].view(dtype).reshape(shape)
            at += nbytes
        return header, arrays


def _trusted_specs(header: object) -> list[tuple[str, str, tuple[int, ...]]]:
    """Array specs of a message from the parent (still checked: a bug must not read garbage)."""
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise WireError("the message has no array list")
    specs = []
    for spec in header["arrays"]:
        if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str) and spec[1] in ALLOWED_DTYPES
                and isinstance(spec[2], list) and all(isinstance(d, int) and 0 <= d < 1 << 31 for d in spec[2])):
            raise WireError(f"bad array spec {str(spec)[:80]}")
        specs.append((spec[0], spec[1], tuple(spec[2])))
    return specs


def write_all(fd: int, data: bytes | list[bytes | memoryview], deadline: float = float("inf")) -> None:
    """Write every byte (of one buffer, or of `encode`'s pieces in order), giving up at the
    deadline: a peer that stops reading cannot block us. `fd` must be non-blocking when a
    deadline is given."""
    views = [memoryview(part) for part in ([data] if isinstance(data, (bytes, bytearray)) else data)]
    views = [view.cast("B") for view in views if view.nbytes]
    while views:
        try:
            written = os.writev(fd, views)
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise TimeoutError from None
            continue
        while written and views:
            if written >= len(views[0]):
                written -= len(views.pop(0))
            else:
                views[0], written = views[0][written:], 0


def quote_error(text: object) -> str:
    """An error from the sandbox as short, single-line data: control characters and newlines
    become spaces, and it is cut to about MAX_ERROR_CHARS characters."""
    flat = " ".join(str(text).split())
    flat = "".join(c if c.isprintable() else "?" for c in flat)
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[:MAX_ERROR_CHARS] + " [cut]"
