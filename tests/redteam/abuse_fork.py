# expect: import of 'os'
import os
def make_controller(beta):
    os.fork()
    return None
