# expect: printed a gigabyte
def make_controller(beta):
    for _ in range(10 ** 6):
        print('x' * 1000)
    raise ValueError('printed a gigabyte')
    return None
