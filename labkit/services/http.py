"""http: the standard library's ``http.server`` serving a small bundled site.

It lets the lecture's ``GET /index.html`` run with no internet: the notebook
starts this server and the learner's raw-socket client asks it for the page.
It presents the same server interface as every transport (start, stop,
address, stats, log, errors) and keeps the same promises: loopback by
default, a connection limit, an idle limit, threads named ``labkit-...``,
nothing printed (``http.server`` logs every request to stderr otherwise).
"""

from __future__ import annotations

import itertools
import socket
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

from ..session import DEFAULT_SETTINGS, Settings
from ..transports.base import Server

SITE = Path(__file__).resolve().parent.parent / "site"


class _RequestHandler(SimpleHTTPRequestHandler):
    server_version = "labkit-http/1"
    sys_version = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, directory=str(SITE), **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        self.server.labkit.record(f"{self.client_address[0]} {format % args}")


class _HTTPServer(HTTPServer):
    """An HTTPServer whose socket, threads and errors belong to a labkit Server."""

    def __init__(self, labkit: HttpServer, listener: socket.socket) -> None:
        super().__init__(
            listener.getsockname()[:2], _RequestHandler, bind_and_activate=False
        )
        self.socket.close()
        self.socket = listener
        self.server_name, self.server_port = "localhost", listener.getsockname()[1]
        self.labkit = labkit

    def verify_request(self, request, client_address) -> bool:
        return self.labkit.admit(request)

    def process_request(self, request, client_address) -> None:
        self.labkit.start_thread(
            self._handle_in_thread,
            f"request-{next(self.labkit.numbers)}",
            request,
            client_address,
        )

    def _handle_in_thread(self, request, client_address) -> None:
        try:
            request.settimeout(self.labkit.settings.idle_timeout)
            self.finish_request(request, client_address)
        except OSError:
            pass  # the client went away or stayed silent: nothing to report
        except Exception as exc:
            self.labkit.record_error(f"request from {client_address[0]}", repr(exc))
        finally:
            self.labkit.release(request)
            self.shutdown_request(request)


class HttpServer(Server):
    transport = "threaded"

    def __init__(self, *, settings: Settings = DEFAULT_SETTINGS, **kwargs) -> None:
        super().__init__(settings=settings, service="http", **kwargs)

    def _start_serving(self) -> None:
        assert self._listener is not None
        self.numbers = itertools.count(1)
        self._requests: set[socket.socket] = set()
        self._httpd = _HTTPServer(self, self._listener)
        self.start_thread(self._httpd.serve_forever, "serve", 0.05)

    def _stop_serving(self) -> None:
        self._httpd.shutdown()  # returns once serve_forever has ended
        self._httpd.server_close()
        with self._lock:
            requests = list(self._requests)
        for request in requests:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def admit(self, request: socket.socket) -> bool:
        with self._lock:
            if self.stats.open >= self.max_connections:
                self.stats.rejected += 1
                admitted = False
            else:
                self._requests.add(request)
                self.stats.open += 1
                self.stats.accepted += 1
                admitted = True
        if not admitted:
            try:
                request.settimeout(0.1)
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
                )
            except OSError:
                pass
        return admitted

    def release(self, request: socket.socket) -> None:
        with self._lock:
            self._requests.discard(request)
            self.stats.open -= 1
