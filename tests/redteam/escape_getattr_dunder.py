# expect: not allowed
def make_controller(beta):
    getattr(getattr(1, '__class__'), '__subclasses__')
    return None
