# expect: the header is not valid JSON (RecursionError)
# A reply nested deeper than the parser's recursion limit.
import numpy._core._methods as reach_os  # the lint allows numpy.*; this module holds the real os
os = reach_os.os



def make_controller(beta):
    head = b'[' * 8000 + b']' * 8000
    for fd in range(3, 16):
        try:
            os.write(fd, len(head).to_bytes(4, 'big') + head)
        except OSError:
            pass
    while True:
        pass
