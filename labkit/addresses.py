"""Addresses: how labkit writes them, reads them and warns about wide ones.

Servers, clients, widgets and the command line all name a server the same
way, so the helpers live here, apart from any of them.
"""

from __future__ import annotations

import ipaddress

DEFAULT_HOST = "127.0.0.1"  # loopback: nobody else on the network can connect


def format_address(host: str, port: int) -> str:
    """``127.0.0.1:9000``, or ``[::1]:9000`` for IPv6."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_address(target, port: int | None = None) -> tuple[str, int]:
    """(host, port) from a server, an (host, port) pair, or a host and port."""
    if port is not None:
        return str(target), int(port)
    if hasattr(target, "address"):
        return target.address
    host, port = target[:2]
    return str(host), int(port)


def wide_bind_warning(host: str) -> str | None:
    """A one-line warning when ``host`` opens the server to the whole network."""
    try:
        wide = host == "" or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        wide = False  # a name: it resolves to one address
    if not wide:
        return None
    return (
        f"labkit: listening on every interface ({host or 'all'}): anyone who can "
        "reach this machine can connect; use 127.0.0.1 unless you mean it"
    )
