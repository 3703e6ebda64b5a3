"""Clients over real sockets: a line client, and the lecture's HTTP GET.

Every call that waits has a timeout, and says in its error what it was
waiting for, so a notebook cell never hangs on a server that went quiet.
"""

from __future__ import annotations

import socket
from collections import deque
from dataclasses import dataclass, field

from .addresses import resolve_address
from .errors import ConnectionClosed, ProtocolError

DEFAULT_TIMEOUT = 5.0
MAX_SERVER_LINE = 64 * 1024  # a server line longer than this is a broken server


class LineClient:
    """A connection to a line service: send a line, read lines, with timeouts.

    >>> with LineClient(server) as client:          # doctest: +SKIP
    ...     client.read_line()
    'WELCOME labkit-blackjack/1 type HELP for commands'

    ``transcript`` keeps the recent lines both ways, as ("C", line) for what
    the client sent and ("S", line) for what the server sent.
    """

    def __init__(
        self, target, port: int | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.address = resolve_address(target, port)
        self.timeout = timeout
        self.transcript: deque[tuple[str, str]] = deque(maxlen=1000)
        self._buffer = bytearray()
        try:
            self._sock = socket.create_connection(self.address, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no answer from {self.address[0]}:{self.address[1]} within "
                f"{timeout:g} s; is the server running?"
            ) from None
        except ConnectionRefusedError:
            raise ConnectionRefusedError(
                f"nothing listens on {self.address[0]}:{self.address[1]}; "
                "start the server first (or check the port)"
            ) from None

    def send_line(self, text: str) -> None:
        """Send one line, ended with CRLF."""
        if "\n" in text or "\r" in text:
            raise ValueError("send one line at a time (no CR or LF inside)")
        self._sock.settimeout(self.timeout)
        self._sock.sendall(text.encode("ascii") + b"\r\n")
        self.transcript.append(("C", text))

    def read_line(self, timeout: float | None = None) -> str:
        """The next line from the server, without its CRLF.

        Raises TimeoutError if none comes within ``timeout`` (default: the
        client's), ConnectionClosed if the server closes first.
        """
        wait = self.timeout if timeout is None else timeout
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > MAX_SERVER_LINE:
                raise ProtocolError(
                    f"the server sent over {MAX_SERVER_LINE} bytes without a newline"
                )
            self._sock.settimeout(wait)
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                raise TimeoutError(
                    f"no line from the server within {wait:g} s"
                ) from None
            if not data:
                raise ConnectionClosed("the server closed the connection")
            self._buffer += data
        raw = bytes(self._buffer[:end]).rstrip(b"\r")
        del self._buffer[: end + 1]
        line = raw.decode("ascii", errors="replace")
        self.transcript.append(("S", line))
        return line

    def read_lines(self, count: int, timeout: float | None = None) -> list[str]:
        """The next ``count`` lines."""
        return [self.read_line(timeout) for _ in range(count)]

    def read_all(self, timeout: float | None = None) -> list[str]:
        """Every line until the server closes the connection."""
        lines = []
        while True:
            try:
                lines.append(self.read_line(timeout))
            except ConnectionClosed:
                return lines

    def request(self, text: str, count: int = 1) -> list[str]:
        """Send a line and read ``count`` lines back."""
        self.send_line(text)
        return self.read_lines(count)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> LineClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def http_get(
    target,
    port: int | None = None,
    path: str = "/index.html",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_size: int = 10 * 1024 * 1024,
) -> HttpResponse:
    """The lecture's HTTP GET, over a raw socket, in Python 3.

    The lecture sends ``"GET /index.html HTTP/1.0\\n\\n"``: a str (Python 3
    sends bytes) with bare newlines (HTTP wants CRLF), and reads 2048 bytes
    once (a page can be longer: read until the server closes).
    """
    host, port = resolve_address(target, port)
    request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii")
    chunks, size = [], 0
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_size:
                raise ProtocolError(f"the response is over {max_size} bytes")
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
    try:
        _, status, reason = status_line.split(" ", 2)
        code = int(status)
    except ValueError:
        raise ProtocolError("not an HTTP status line", status_line) from None
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return HttpResponse(code, reason, headers, body)
