"""Transports: the ways of carrying a service's bytes, by name."""

from __future__ import annotations

from .base import PortInUseError, Server, ServerError, Stats
from .iterative import IterativeServer
from .socketserver import SocketServerServer
from .threaded import ThreadedServer

TRANSPORTS: dict[str, type[Server]] = {
    "threaded": ThreadedServer,
    "iterative": IterativeServer,
    "socketserver": SocketServerServer,
}

__all__ = [
    "TRANSPORTS",
    "IterativeServer",
    "PortInUseError",
    "Server",
    "ServerError",
    "SocketServerServer",
    "Stats",
    "ThreadedServer",
]
