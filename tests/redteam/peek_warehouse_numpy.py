# expect: fromfile
import numpy as np
def make_controller(beta):
    np.fromfile('autotts.duckdb', dtype='uint8')
    return None
