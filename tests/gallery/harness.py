"""Run a learner's ``serve(listener)`` in a thread, and stop it for sure.

The listener records every connection it accepts, so stopping can shut
them down too: a handler stuck in ``recv`` then returns, as does ``accept``.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Listener(socket.socket):
    """A listening socket that remembers what it accepted."""

    def __init__(self) -> None:
        super().__init__(socket.AF_INET, socket.SOCK_STREAM)
        self.accepted: list[socket.socket] = []
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.bind(("127.0.0.1", 0))
        self.listen(64)

    def accept(self):
        conn, address = super().accept()
        self.accepted.append(conn)
        return conn, address


class Running:
    def __init__(self, serve) -> None:
        self.listener = Listener()
        self.address = self.listener.getsockname()
        self.thread = threading.Thread(
            target=self._run, args=(serve,), name="gallery-server", daemon=True
        )
        self.thread.start()

    def _run(self, serve) -> None:
        with contextlib.suppress(OSError):
            serve(self.listener)

    def stop(self) -> bool:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for conn in self.listener.accepted:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.thread.join(2)
        handlers = [t for t in threading.enumerate() if t.name == "gallery-handler"]
        for thread in handlers:
            thread.join(2)
        return not self.thread.is_alive() and not any(t.is_alive() for t in handlers)


@contextlib.contextmanager
def running(serve):
    server = Running(serve)
    try:
        yield server
    finally:
        assert server.stop(), "the gallery server did not stop within 2 s"
