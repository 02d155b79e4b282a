# expect: import of 'pickle'
import pickle
def make_controller(beta):
    pickle.loads(b'')
    return None
