# expect: name 'exec' is not defined
def make_controller(beta):
    exec('x = 1')
    return None
