# expect: name 'open' is not defined
def make_controller(beta):
    open('/tmp/autotts-redteam', 'w').write('x')
    return None
