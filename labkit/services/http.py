"""http: the standard library's ``http.server`` serving a small bundled site.

It lets the lecture's ``GET /index.html`` run with no internet: the notebook
starts this server and the learner's raw-socket client asks it for the page.
It runs on labkit's socketserver transport, so it keeps every promise the
other servers keep: loopback by default, a connection limit, an idle limit,
threads named ``labkit-...``, a bounded stop, and nothing printed
(``http.server`` logs every request to stderr otherwise). The connection
engine admits and counts its connections; ``http.server`` speaks HTTP on them,
so their session is the do-nothing base :class:`~labkit.session.Session`.
"""

from __future__ import annotations

from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from ..session import Session
from ..transports.socketserver import SocketServerServer

SITE = Path(__file__).resolve().parent.parent / "site"


class SiteHandler(SimpleHTTPRequestHandler):
    server_version = "labkit-http/1"
    sys_version = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, directory=str(SITE), **kwargs)

    def setup(self) -> None:
        self.timeout = self.server.owner.limits.idle_timeout
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        self.server.owner.record(f"{self.client_address[0]} {format % args}")


class HttpServer(SocketServerServer):
    handler_class = SiteHandler

    def __init__(self, session_class: type[Session] = Session, **kwargs) -> None:
        super().__init__(session_class, **kwargs)

    def busy_reply(self, per_peer: int | None = None) -> bytes:
        return b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
