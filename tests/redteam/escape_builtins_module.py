# expect: import of 'builtins'
import builtins
def make_controller(beta):
    builtins.open('/tmp/x', 'w')
    return None
