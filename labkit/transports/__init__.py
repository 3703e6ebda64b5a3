"""Transports: the ways of carrying a service's bytes, by name.

Each is imported only when first used, so ``import labkit`` does not pay for
Twisted (or install its reactor) in a notebook that never asks for it.
"""

from __future__ import annotations

from importlib import import_module

from .base import PortInUseError, Server, ServerError, Stats

# name -> module in this package and its Server class, in the lecture's order
_CLASSES = {
    "threaded": ("threaded", "ThreadedServer"),
    "iterative": ("iterative", "IterativeServer"),
    "socketserver": ("socketserver", "SocketServerServer"),
    "selectors": ("selectors", "SelectorsServer"),
    "asyncio": ("asyncio", "AsyncioServer"),
    "twisted": ("twisted", "TwistedServer"),
}
TRANSPORTS = tuple(_CLASSES)


def transport_class(name: str) -> type[Server]:
    """The Server class of the transport called ``name``."""
    if name not in _CLASSES:
        raise ValueError(
            f"unknown transport {name!r}; choose one of: {', '.join(TRANSPORTS)}"
        )
    module, cls = _CLASSES[name]
    return getattr(import_module(f"{__name__}.{module}"), cls)


__all__ = [
    "TRANSPORTS",
    "PortInUseError",
    "Server",
    "ServerError",
    "Stats",
    "transport_class",
]
