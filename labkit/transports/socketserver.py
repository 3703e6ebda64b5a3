"""socketserver: the standard library's ThreadingTCPServer, traps handled.

``socketserver`` is the lecture's "SocketServer": a server class plus a
handler class, a thread per connection. Its traps, and what we do:

- ``daemon_threads = False`` by default: the interpreter waits for every
  handler thread at exit, so a notebook kernel with a client connected never
  shuts down. Ours are daemon threads, and ``stop()`` joins them with a bound.
- ``block_on_close = True`` by default: ``server_close()`` joins handler
  threads with no timeout. Ours is off; we join ours within 2 s.
- no line limit: ``StreamRequestHandler.rfile.readline()`` reads a line of
  any length into memory. Our handler drives a session instead, whose framer
  holds ``limits.max_line`` bytes at most.

The listening socket is ours (bound by ``Server.start``), handed to the
socketserver instance, so a taken port raises the same clear error.
"""

from __future__ import annotations

import itertools
import socket
import socketserver

from .blocking import BlockingServer, drive, serve
from .connection import Connection


class SessionHandler(socketserver.BaseRequestHandler):
    """The handler: the request's labkit connection, driven to its end."""

    def handle(self) -> None:
        drive(self.server.admitted[self.request], self.request)


class _ThreadingTCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: SocketServerServer, listener: socket.socket) -> None:
        super().__init__(
            listener.getsockname()[:2], owner.handler_class, bind_and_activate=False
        )
        self.socket.close()  # the unbound socket made by __init__: use ours
        self.socket = listener
        self.server_name, self.server_port = "localhost", listener.getsockname()[1]
        self.owner = owner
        self.admitted: dict[socket.socket, Connection] = {}
        self._numbers = itertools.count(1)

    def verify_request(self, request, client_address) -> bool:
        connection = self.owner.accept(request, client_address[0])
        if connection is not None:
            self.admitted[request] = connection
        return connection is not None

    def process_request(self, request, client_address) -> None:
        # ThreadingMixIn would start an anonymous thread; ours is named and
        # joined by stop().
        name = f"conn-{next(self._numbers)}"
        self.owner.start_thread(self._serve, name, request, client_address)

    def _serve(self, request, client_address) -> None:
        try:
            serve(
                self.admitted[request],
                lambda *_: self.finish_request(request, client_address),
            )
        finally:
            del self.admitted[request]


class SocketServerServer(BlockingServer):
    transport = "socketserver"
    handler_class: type[socketserver.BaseRequestHandler] = SessionHandler

    def _start_serving(self) -> None:
        super()._start_serving()
        assert self._listener is not None
        self._tcp_server = _ThreadingTCPServer(self, self._listener)
        self.start_thread(self._tcp_server.serve_forever, "serve", 0.05)

    def _stop_serving(self) -> None:
        self._tcp_server.shutdown()  # returns once serve_forever has ended
        self._tcp_server.server_close()
        super()._stop_serving()
