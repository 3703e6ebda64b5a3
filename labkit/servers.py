"""Any service on any transport, by name: the one place that pairs them."""

from __future__ import annotations

from .addresses import DEFAULT_HOST
from .services import SESSIONS
from .services.http import HttpServer
from .session import Settings
from .transports import transport_class
from .transports.base import DEFAULT_MAX_CONNECTIONS, Server

SERVICES = (*SESSIONS, "http")


def make_server(
    service: str,
    transport: str = "threaded",
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    seed: int | None = None,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    idle_timeout: float | None = Settings.idle_timeout,
) -> Server:
    """A server for ``service`` on ``transport``, not started yet.

    Raises ValueError, with the valid choices, for a name it does not know.
    """
    if service not in SERVICES:
        raise ValueError(
            f"unknown service {service!r}; choose one of: {', '.join(SERVICES)}"
        )
    if idle_timeout is not None and idle_timeout <= 0:
        raise ValueError("idle_timeout must be a number of seconds above 0, or None")
    server_class = transport_class(transport)
    settings = Settings(idle_timeout=idle_timeout, seed=seed)
    options = dict(host=host, port=port, max_connections=max_connections)
    if service == "http":
        if transport != "threaded":
            raise ValueError(
                "the http service is the standard library's threaded http.server; "
                "use transport='threaded'"
            )
        return HttpServer(settings=settings, **options)
    return server_class(
        SESSIONS[service], settings=settings, service=service, **options
    )
