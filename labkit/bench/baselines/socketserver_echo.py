"""Echo the plain way with the standard library: ThreadingTCPServer.

    python labkit/bench/baselines/socketserver_echo.py [--port 0]

What a user writes without labkit: a handler class with a recv/sendall loop,
one thread per connection. No line limit, no idle limit, no connection
limit. The benchmark's bare counterpart of labkit's threaded and
socketserver transports.
"""

import argparse
import signal
import socketserver
import sys


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True  # do not wait for connected clients at exit
    allow_reuse_address = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Server(("127.0.0.1", args.port), EchoHandler) as server:
        host, port = server.server_address[:2]
        print(f"listening on {host}:{port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
