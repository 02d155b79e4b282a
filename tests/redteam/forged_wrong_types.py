# expect: malformed reply while calling make_controller(0): field 'live_only' of the 'started' reply has the wrong type
# Writes its own reply, with a string where the parent expects a bool.
import numpy._core._methods as reach_os  # the lint allows numpy.*; this module holds the real os
os = reach_os.os



def forge(message):
    for fd in range(3, 16):
        try:
            os.write(fd, message)
        except OSError:
            pass


def make_controller(beta):
    head = b'{"kind": "started", "live_only": "yes", "arrays": []}'
    forge(len(head).to_bytes(4, 'big') + head)
    while True:
        pass
