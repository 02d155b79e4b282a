# expect: timeout
def make_controller(beta):
    while True:
        pass
    return None
