"""Servers in background threads of a notebook's kernel.

``serve("echo")`` starts a server and returns it once it accepts
connections. Running the same cell again replaces the earlier server instead
of failing with "Address already in use": servers are kept by name (by
default ``service/transport``) and by fixed port, and a new one stops the old
one first. ``stop_all()`` stops every one; so does the kernel's exit.

A server that was stopped and that nothing replaced can be started again
as its cell started it (``restart``): a widget's Reconnect does that, so a
notebook may clean up its servers and still leave every widget usable.
Widgets that follow a server by name hear of each start (``when_started``).
"""

from __future__ import annotations

import atexit
import threading
import warnings
import weakref
from collections.abc import Callable

from .addresses import DEFAULT_HOST, wide_bind_warning
from .limits import DEFAULT_LIMITS, Limits
from .servers import make_server
from .transports.base import PortInUseError, Server

_servers: dict[str, Server] = {}
_lock = threading.Lock()
_listeners: list[weakref.WeakMethod] = []  # told of every server serve() starts


def serve(
    service: str = "echo",
    transport: str | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    **options: object,
) -> Server:
    """Start ``service`` on ``transport`` in the background; return the server.

    The server listens on 127.0.0.1 and a free port unless told otherwise
    (``server.port`` says which), within ``limits`` (``labkit.Limits``);
    ``options`` are the service's own (blackjack: ``seed``). Use it as a
    context manager, or call ``server.stop()``; re-running the cell replaces it.
    """
    if warning := wide_bind_warning(host):
        warnings.warn(warning, stacklevel=2)
    server = make_server(
        service, transport, host=host, port=port, limits=limits, **options
    )
    key = name or f"{service}/{server.transport}"
    with _lock:
        for old_key, old in list(_servers.items()):
            if old_key == key or (port and old.running and old.port == port):
                old.stop()
                del _servers[old_key]
        server.start()
        server.name = key
        # how to start it again: the cell's own arguments
        server.recipe = dict(
            service=service,
            transport=server.transport,
            host=host,
            port=port,
            name=key,
            limits=limits,
            **options,
        )
        _servers[key] = server
    for listener in list(_listeners):
        callback = listener()
        if callback is None:
            _listeners.remove(listener)
        else:
            callback(server)
    return server


def adopt(key: str, start: Callable[[], Server]) -> Server:
    """Keep the server ``start()`` starts under ``key``, stopping the one there
    first: how ``labkit.run_server`` replaces a learner's server on a re-run."""
    with _lock:
        old = _servers.pop(key, None)
        if old is not None:
            old.stop()
        server = start()
        _servers[key] = server
    return server


def restartable(server: Server) -> bool:
    """True if ``server`` was started by ``serve``, is stopped, and nothing
    runs in its place: ``restart`` would start it again."""
    return (
        getattr(server, "recipe", None) is not None
        and not server.running
        and current(server) is server
    )


def restart(server: Server) -> Server:
    """Start a stopped ``server`` again as its cell did (the same service,
    transport, options and name), on the same port when that is free."""
    recipe = server.recipe
    if recipe["port"]:
        return serve(**recipe)
    try:
        new = serve(**{**recipe, "port": server.port})
    except PortInUseError:
        new = serve(**recipe)  # taken meanwhile: a free one, as the cell asked
    new.recipe = recipe  # a free port next time too, as the cell asked
    return new


def when_started(callback: Callable[[Server], None]) -> None:
    """Call ``callback(server)`` (a bound method, held weakly) after each
    ``serve``, on the thread that called it."""
    _listeners.append(weakref.WeakMethod(callback))


def current(server: Server) -> Server:
    """The server running now in ``server``'s place: a cell run again starts a
    new one under the same name, and a widget should follow it."""
    with _lock:
        latest = _servers.get(getattr(server, "name", None), server)
    return latest if latest.running else server


def running() -> list[Server]:
    """The background servers that are running now."""
    with _lock:
        return [server for server in _servers.values() if server.running]


def stop_all(timeout: float = 2.0) -> None:
    """Stop every background server (each within ``timeout`` seconds)."""
    with _lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.stop(timeout)


atexit.register(stop_all)
