# expect: a header of 826044 bytes is larger than the 16384 allowed
# An 826,000-character error, which used to be stored and pasted into the next prompt.
import numpy._core._methods as reach_os  # the lint allows numpy.*; this module holds the real os
os = reach_os.os



def make_controller(beta):
    head = b'{"kind": "error", "arrays": [], "error": "' + b'x' * 826000 + b'"}'
    for fd in range(3, 16):
        try:
            os.write(fd, len(head).to_bytes(4, 'big') + head)
        except OSError:
            pass
    while True:
        pass
