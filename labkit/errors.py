"""Errors a client raises about a server: no I/O here, so the core can use them."""

from __future__ import annotations


class ProtocolError(Exception):
    """The server sent something the protocol does not allow."""

    def __init__(self, message: str, line: str | None = None) -> None:
        super().__init__(message if line is None else f"{message}: {line!r}")
        self.line = line


class ConnectionClosed(ConnectionError):
    """The server closed the connection."""
