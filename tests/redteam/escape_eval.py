# expect: name 'eval' is not defined
def make_controller(beta):
    eval("__import__('os')")
    return None
