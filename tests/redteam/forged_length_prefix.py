# expect: a header of 4294967295 bytes is larger than the 16384 allowed
# A length prefix that would make the parent wait for, or allocate, 4 GiB.
import numpy._core._methods as reach_os  # the lint allows numpy.*; this module holds the real os
os = reach_os.os


def make_controller(beta):
    for fd in range(3, 16):
        try:
            os.write(fd, b'\xff\xff\xff\xff')
        except OSError:
            pass
    while True:
        pass
