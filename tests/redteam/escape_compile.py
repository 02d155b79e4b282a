# expect: name 'compile' is not defined
def make_controller(beta):
    compile('1', 'f', 'eval')
    return None
