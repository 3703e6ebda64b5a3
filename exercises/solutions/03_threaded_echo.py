"""Exercise 3, a solution: the echo server, one thread per client."""

import threading


def handle_client(c):
    with c:
        try:
            while True:
                data = c.recv(4096)
                if not data:
                    break
                c.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass  # that client is gone; the others are served by their threads


def threaded_echo_server(s):
    while True:
        c, a = s.accept()
        t = threading.Thread(target=handle_client, args=(c,), daemon=True)
        t.start()
