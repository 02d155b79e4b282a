# expect: must return Actions
class C:
    def act(self, obs):
        return {'branch': 1}
def make_controller(beta):
    return C()
