# expect: import of 'time'
import time
def make_controller(beta):
    time.time()
    return None
