# expect: forbidden name
def make_controller(beta):
    [c for c in ().__class__.__base__.__subclasses__()]
    return None
