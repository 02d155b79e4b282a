# expect: import of 'ctypes'
import ctypes
def make_controller(beta):
    ctypes.CDLL(None).system(b'id')
    return None
