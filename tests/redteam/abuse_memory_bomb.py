# expect: MemoryError
def make_controller(beta):
    x = bytearray(10 ** 11)
    return None
