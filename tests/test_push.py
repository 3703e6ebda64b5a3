"""Pushed lines: output a connection did not ask for, on every transport.

A shared table sends each player the others' moves: lines caused by another
connection, or by a timer. ``session.push`` hands such output to the
connection engine from any thread, and every transport must deliver it at
once, even the blocking ones whose thread sits in ``recv``; a peer that
never reads must delay nobody and be dropped at its bound.
"""

from __future__ import annotations

import select
import socket
import threading
import time

import pytest
from rawsockets import connect, read_line
from support import wait_until

from labkit import Limits
from labkit.transports import TRANSPORTS

pytestmark = pytest.mark.timeout(120)
CONCURRENT = [t for t in TRANSPORTS if t != "iterative"]
NEWS = b"NEWS the dealer shuffles\r\n"


def read_exactly(sock: socket.socket, size: int, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def push_to_all(server, data: bytes) -> int:
    connections = server.connections()
    for connection in connections:
        connection.session.push(data)
    return len(connections)


def connect_and_find(server, sock: socket.socket | None = None):
    """A client socket, and the server's connection for it."""
    before = set(server.connections())
    if sock is None:
        sock = connect(server)
    else:
        sock.connect(server.address)
    assert wait_until(lambda: set(server.connections()) - before)
    (connection,) = set(server.connections()) - before
    return sock, connection


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_pushed_line_reaches_a_connection_waiting_in_recv(transport, no_leaks, start):
    server = start("blackjack", transport, seed=1)
    sock, connection = connect_and_find(server)
    with sock:
        assert read_line(sock).startswith(b"WELCOME ")
        connection.session.push_line("NEWS the dealer shuffles")
        assert read_exactly(sock, len(NEWS), timeout=2) == NEWS
        sock.sendall(b"SCORE\r\n")  # the session goes on as before
        assert read_line(sock) == b"SCORE 0 0 0\r\n"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("transport", CONCURRENT)
def test_a_line_pushed_to_1000_idle_connections_reaches_all(transport, no_leaks, start):
    server = start("echo", transport, limits=Limits(max_connections=1000))
    sockets = []
    try:
        for _ in range(1000):
            sockets.append(connect(server))
        assert wait_until(lambda: server.stats.open == 1000, timeout=30)
        assert push_to_all(server, NEWS) == 1000
        for sock in sockets:
            assert read_exactly(sock, len(NEWS)) == NEWS
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize("transport", CONCURRENT)
def test_a_peer_that_never_reads_delays_nobody_and_is_dropped_at_its_bound(
    transport, no_leaks, start
):
    server = start("echo", transport, limits=Limits(max_pending=256 * 1024))
    # A small receive window, and then it never reads.
    small = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    small.settimeout(10)
    stuck, stuck_connection = connect_and_find(server, small)
    readers = [connect_and_find(server) for _ in range(5)]
    chunk = b"x" * 16 * 1024
    pushed = 0
    try:
        # Up to far more than the kernel's buffers and the bound can hold.
        while stuck_connection in server.connections() and pushed < 256 * 2**20:
            stuck_connection.session.push(chunk)
            pushed += len(chunk)
            if pushed % (1024 * 1024) == 0:  # everybody else is served at once
                began = time.monotonic()
                for _, connection in readers:
                    connection.session.push(NEWS)
                for reader, _ in readers:
                    assert read_exactly(reader, len(NEWS), timeout=2) == NEWS
                assert time.monotonic() - began < 1.0
        assert wait_until(lambda: stuck_connection not in server.connections())
        assert any("dropped" in line and "read" in line for line in server.log), (
            server.log[-5:]
        )
        assert server.errors == []
        for reader, _ in readers:  # and they go on being served
            reader.sendall(b"ping\n")
            assert read_exactly(reader, 5) == b"ping\n"
    finally:
        stuck.close()
        for reader, _ in readers:
            reader.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pushing_while_the_server_stops_neither_hangs_nor_leaks(
    transport, no_leaks, start
):
    server = start("echo", transport)
    sockets = [connect(server) for _ in range(1 if transport == "iterative" else 20)]
    assert wait_until(lambda: server.stats.open == len(sockets))
    connections = server.connections()
    failures: list[BaseException] = []
    stop_pushing = threading.Event()

    def pusher() -> None:
        try:
            while not stop_pushing.is_set():
                for connection in connections:
                    connection.session.push(NEWS)
        except BaseException as exc:  # noqa: BLE001: any failure fails the test
            failures.append(exc)

    threads = [threading.Thread(target=pusher) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)  # pushes under way, then the stop lands among them
    began = time.monotonic()
    assert server.stop()
    assert time.monotonic() - began < 2.5
    stop_pushing.set()
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()
    assert failures == []
    for sock in sockets:  # every connection was closed by the stop
        sock.settimeout(5)
        readable, _, _ = select.select([sock], [], [], 5)
        assert readable
        sock.close()
