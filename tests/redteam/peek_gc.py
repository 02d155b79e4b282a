# expect: import of 'gc'
import gc
def make_controller(beta):
    gc.get_objects()
    return None
