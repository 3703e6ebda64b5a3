"""Exercise 2, a solution: an iterative echo server.

recv returns whatever has arrived, from 1 byte up to the size asked for, and
b"" once the client has closed its sending side (half-close): so read in a
loop until b"", send back with sendall, and only then close. A client that
resets its connection ends that connection, not the server.
"""


def echo_server(s):
    while True:
        c, a = s.accept()
        with c:
            try:
                while True:
                    data = c.recv(4096)
                    if not data:  # the client sent all it will send
                        break
                    c.sendall(data)
            except (ConnectionResetError, BrokenPipeError):
                pass  # that client is gone; serve the next one
