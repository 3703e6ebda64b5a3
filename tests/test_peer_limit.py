"""The per-address limit: one address cannot take every connection.

Two loopback addresses stand for two machines: 127.0.0.1 and 127.0.0.2
both reach a server on 127.0.0.1 (all of 127/8 is this machine), and the
server sees them as two peers.
"""

from __future__ import annotations

import socket

import pytest
from support import ServeProcess, wait_until

from labkit import Limits
from labkit.transports import TRANSPORTS

pytestmark = pytest.mark.timeout(30)
CONCURRENT = [t for t in TRANSPORTS if t != "iterative"]
BUSY = (
    "ERROR BUSY the server takes at most 2 connections from one address; "
    "try again later"
)


def first_line(host: str, port: int, source: str) -> tuple[socket.socket, str]:
    """Connect from ``source``; the socket and the server's first line."""
    sock = socket.create_connection(
        (host, port), timeout=10, source_address=(source, 0)
    )
    line = sock.makefile("rb").readline().decode("ascii").rstrip("\r\n")
    return sock, line


@pytest.mark.parametrize("transport", CONCURRENT)
def test_one_address_over_its_limit_is_busy_while_another_joins(transport, start):
    server = start("blackjack", transport, limits=Limits(max_per_peer=2))
    host, port = server.address[:2]
    kept = [first_line(host, port, "127.0.0.1") for _ in range(2)]
    assert [line.split()[0] for _, line in kept] == ["WELCOME", "WELCOME"]
    extra, line = first_line(host, port, "127.0.0.1")
    assert line == BUSY
    assert extra.recv(100) == b"", "the busy connection is closed"
    other, line = first_line(host, port, "127.0.0.2")
    assert line.startswith("WELCOME "), "another address is still admitted"
    assert server.stats.rejected == 1
    kept.pop()[0].close()
    assert wait_until(lambda: server.stats.open == 2)
    again, line = first_line(host, port, "127.0.0.1")
    assert line.startswith("WELCOME "), "a freed place is taken again"
    for sock in [extra, other, again, *(sock for sock, _ in kept)]:
        sock.close()


def test_the_library_has_no_per_address_limit_unless_asked(start):
    server = start("blackjack", "threaded")
    host, port = server.address[:2]
    socks = [first_line(host, port, "127.0.0.1") for _ in range(20)]
    assert all(line.startswith("WELCOME ") for _, line in socks)
    for sock, _ in socks:
        sock.close()


def test_the_command_line_limits_an_address_to_16_by_default():
    with ServeProcess("blackjack", "--quiet") as served:
        socks = [first_line(served.host, served.port, "127.0.0.1") for _ in range(17)]
        assert all(line.startswith("WELCOME ") for _, line in socks[:16])
        assert socks[16][1] == (
            "ERROR BUSY the server takes at most 16 connections from one address; "
            "try again later"
        )
        _, line = first_line(served.host, served.port, "127.0.0.2")
        assert line.startswith("WELCOME ")
        for sock, _ in socks:
            sock.close()
