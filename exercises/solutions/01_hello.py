"""Exercise 1, a solution: the lecture's Hello server, iterative."""


def hello_server(s):
    while True:
        c, a = s.accept()
        c.sendall(f"Hello {a[0]}\r\n".encode("ascii"))
        c.close()
