# expect: RecursionError
def make_controller(beta):
    def f(n):
        return f(n + 1)
    f(0)
    return None
