# expect: import of 'sys'
import sys
def make_controller(beta):
    sys.modules['replay_core.env']
    return None
