"""labkit: a networking lab in Jupyter notebooks.

Real servers in background threads of the kernel, real clients over real
sockets on loopback. Start here::

    import labkit
    server = labkit.serve("echo")             # 127.0.0.1, a free port
    with labkit.LineClient(server) as client:
        ...
    labkit.stop_all()
"""

from .background import running, serve, stop_all
from .blackjack.client import BlackjackClient, ServerRefused
from .check import CheckReport, check
from .clients import (
    ConnectionClosed,
    HttpResponse,
    LineClient,
    ProtocolError,
    http_get,
)
from .learner import LearnerServer, run_server
from .limits import Limits
from .servers import SERVICES, make_server
from .session import LineSession, Session
from .transports import TRANSPORTS, PortInUseError, Server, ServerError

__version__ = "0.1.0"

_WIDGETS = ("BlackjackTable", "EchoConsole", "ServerMonitor")


def __getattr__(name: str):
    # Widgets import ipywidgets: load them only when a notebook asks, so the
    # command line and the servers start without it.
    if name in _WIDGETS:
        from . import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


__all__ = [
    "BlackjackClient",
    "BlackjackTable",
    "CheckReport",
    "EchoConsole",
    "ServerMonitor",
    "ServerRefused",
    "SERVICES",
    "TRANSPORTS",
    "ConnectionClosed",
    "HttpResponse",
    "LearnerServer",
    "LineClient",
    "Limits",
    "LineSession",
    "PortInUseError",
    "ProtocolError",
    "Server",
    "ServerError",
    "Session",
    "check",
    "http_get",
    "make_server",
    "run_server",
    "running",
    "serve",
    "stop_all",
]
