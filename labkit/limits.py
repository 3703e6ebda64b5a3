"""Limits: what keeps a server safe whatever its clients do.

One frozen value, passed whole from ``serve()``, ``make_server()`` and the
command line down to the sessions and the connection engine, so that each
limit is written once and every layer reads the same number. The defaults
are the safe ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The bounds on a server's connections, time and memory."""

    # Connections open at once; one more gets the service's busy reply.
    max_connections: int = 256
    # Connections open at once from one peer address; one more from it gets
    # the busy reply, while other addresses are still admitted. Off (None)
    # unless asked for: the lab's own demos open hundreds of connections
    # from 127.0.0.1. `python -m labkit serve`, which a network can reach,
    # sets 16.
    max_per_peer: int | None = None
    # Bytes in a line, without its terminator (line services only).
    max_line: int = 512
    # Seconds a connection may go without a complete line (echo: without a
    # byte) before it is closed; None turns the limit off.
    idle_timeout: float | None = 300.0
    # Bytes of output a server holds for a client that does not read them
    # (lines pushed to it by others); past this the client is dropped.
    max_pending: int = 256 * 1024

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if self.max_per_peer is not None and self.max_per_peer < 1:
            raise ValueError("max_per_peer must be at least 1")
        if self.max_line < 1:
            raise ValueError("max_line must be at least 1 byte")
        if self.idle_timeout is not None and not self.idle_timeout > 0:
            raise ValueError(
                "idle_timeout must be a number of seconds above 0, or None"
            )
        if self.max_pending < 1:
            raise ValueError("max_pending must be at least 1 byte")


DEFAULT_LIMITS = Limits()
