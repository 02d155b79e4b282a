# expect: import of 'random'
import random
def make_controller(beta):
    random.random()
    return None
