# expect: import of 'os'
import os
def make_controller(beta):
    os.system('touch /tmp/autotts-redteam')
    return None
