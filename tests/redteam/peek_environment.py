# expect: import of 'os'
import os
def make_controller(beta):
    os.environ.get('ANTHROPIC_API_KEY')
    return None
