# expect: forbidden name '__import__'
def make_controller(beta):
    __import__('os').system('id')
    return None
