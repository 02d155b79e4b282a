# expect: import of 'socket'
import socket
def make_controller(beta):
    socket.create_connection(('127.0.0.1', 80))
    return None
