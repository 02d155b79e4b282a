# expect: import of 'subprocess'
import subprocess
def make_controller(beta):
    subprocess.run(['id'])
    return None
