# expect: loadtxt
import numpy as np
def make_controller(beta):
    np.loadtxt('/work/shared/data/README.md', dtype=str)
    return None
