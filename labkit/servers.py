"""Any service on any transport, by name: the one place that pairs them.

Each service is a session class that every transport can carry, except
``http``, which is the standard library's ``http.server`` and brings its
own server class (on the socketserver transport).
"""

from __future__ import annotations

from dataclasses import dataclass

from .addresses import DEFAULT_HOST
from .limits import DEFAULT_LIMITS, Limits
from .services.blackjack import BlackjackSession
from .services.echo import EchoSession
from .services.hello import HelloSession
from .services.http import HttpServer
from .services.tables import RULE_OPTIONS, TablesSession
from .session import Session
from .transports import TRANSPORTS, transport_class
from .transports.base import Server


@dataclass(frozen=True)
class Service:
    """How one service is served."""

    session_class: type[Session]
    options: tuple[str, ...] = ()  # keyword arguments of the session's own
    transports: tuple[str, ...] = TRANSPORTS  # the first is the default
    server_class: type[Server] | None = None  # None: the transport's


REGISTRY: dict[str, Service] = {
    "hello": Service(HelloSession),
    "echo": Service(EchoSession),
    "blackjack": Service(BlackjackSession, options=("seed",)),
    "tables": Service(
        TablesSession,
        options=("seed", "tables", *RULE_OPTIONS),
    ),
    "http": Service(Session, transports=("socketserver",), server_class=HttpServer),
}
SERVICES = tuple(REGISTRY)


def make_server(
    service: str,
    transport: str | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    limits: Limits = DEFAULT_LIMITS,
    **options: object,
) -> Server:
    """A server for ``service`` on ``transport``, not started yet.

    ``transport`` defaults to the service's first (threaded, for all but
    http). ``options`` are the service's own (blackjack: ``seed``; tables:
    ``seed``, ``tables``, ``decks``, ``h17``, ``bet_seconds``, ``turn_seconds``,
    ``reconnect_seconds``). Raises ValueError, with the valid choices, for
    anything it does not know.
    """
    if service not in REGISTRY:
        raise ValueError(
            f"unknown service {service!r}; choose one of: {', '.join(SERVICES)}"
        )
    served = REGISTRY[service]
    transport = transport or served.transports[0]
    if transport not in served.transports:
        transport_class(transport)  # an unknown name: say which exist
        raise ValueError(
            f"the {service} service runs on {' or '.join(served.transports)}, "
            f"not {transport}"
        )
    options = {name: value for name, value in options.items() if value is not None}
    unknown = set(options) - set(served.options)
    if unknown:
        takes = ", ".join(served.options) or "no options"
        raise ValueError(f"{service} takes {takes}; not {', '.join(sorted(unknown))}")
    server_class = served.server_class or transport_class(transport)
    return server_class(
        served.session_class,
        host=host,
        port=port,
        limits=limits,
        service=service,
        **options,
    )
