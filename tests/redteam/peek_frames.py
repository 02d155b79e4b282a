# expect: no introspection
def make_controller(beta):
    g = (x for x in [1])
    frame = g.gi_frame.f_back
    return None
