"""The conformance suite: every transport over real sockets on loopback.

Each test runs on every transport (the iterative one where it applies: it
serves one client at a time by design), against the same sessions.
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import subprocess
import sys
import threading
import time

import pytest
import reliability
from rawsockets import connect, read_line, read_until_closed, reset
from support import wait_until

from labkit import Limits
from labkit.session import LineSession
from labkit.transports import TRANSPORTS, timeouts, transport_class
from labkit.transports.base import bind_listener

CONCURRENT = [t for t in TRANSPORTS if t != "iterative"]


def echo_once(server, payload: bytes = b"ping\n") -> bytes:
    with connect(server) as sock:
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            assert chunk, "the echo server closed early"
            received += chunk
        return received


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hello_greets_by_address_and_closes(start, transport):
    server = start("hello", transport)
    with connect(server) as sock:
        assert read_until_closed(sock) == b"Hello 127.0.0.1\r\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_binds_loopback_and_a_free_port_by_default(start, transport):
    server = start("echo", transport)
    assert server.host == "127.0.0.1" and server.port > 0


def test_listeners_reuse_the_address():
    with bind_listener("127.0.0.1", 0, backlog=5) as listener:
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)


CLIENTS_HOLDING = "5 clients holding 0.2 s each, all served in"


def hold_connections(server, clients: int, hold: float) -> float:
    """Time for ``clients`` echo clients, started together, each holding on."""
    go = threading.Barrier(clients + 1, timeout=5)
    failures = []

    def client() -> None:
        try:
            go.wait()
            with connect(server) as sock:
                sock.sendall(b"x")
                assert sock.recv(1) == b"x"  # we are being served now
                time.sleep(hold)  # the scenario: a client that takes its time
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    go.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join(10)
    assert not failures
    return time.monotonic() - began


def test_iterative_serves_one_client_at_a_time(start):
    elapsed = hold_connections(start("echo", "iterative"), clients=5, hold=0.2)
    assert elapsed >= 1.0, f"5 clients x 0.2 s took only {elapsed:.2f} s"
    reliability.add(CLIENTS_HOLDING, "iterative", f"{elapsed:.2f} s (one at a time)")


@pytest.mark.parametrize("transport", CONCURRENT)
def test_the_others_serve_clients_at_the_same_time(start, transport):
    elapsed = hold_connections(start("echo", transport), clients=5, hold=0.2)
    assert elapsed < 0.5, f"5 clients x 0.2 s took {elapsed:.2f} s"
    reliability.add(CLIENTS_HOLDING, transport, f"{elapsed:.2f} s")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_32_mib_echoed_intact_with_bounded_server_memory(transport):
    """The server runs in its own process, so its memory is its own."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "labkit", "serve", "echo", "--transport", transport],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        address = proc.stdout.readline().split()[-1]
        host, port = address.rsplit(":", 1)
        payload = random.Random(1).randbytes(32 * 1024 * 1024)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"warm-up")
            assert sock.recv(64) == b"warm-up"
            before = peak_rss(proc.pid)

            def send() -> None:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)

            sender = threading.Thread(target=send)
            sender.start()
            digest, size = hashlib.sha256(), 0
            while chunk := sock.recv(1 << 20):
                digest.update(chunk)
                size += len(chunk)
            sender.join(10)
        grown = peak_rss(proc.pid) - before
        assert size == len(payload)
        assert digest.digest() == hashlib.sha256(payload).digest()
        assert grown < 16 * 1024 * 1024, f"the server grew {grown / 2**20:.1f} MiB"
        reliability.add(
            "32 MiB echoed intact: server memory growth",
            transport,
            f"{grown / 2**20:.1f} MiB",
        )
    finally:
        proc.terminate()
        assert proc.wait(5) == 0


def peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", CONCURRENT)
def test_500_concurrent_echo_clients_are_all_served(no_leaks, start, transport):
    server = start("echo", transport, limits=Limits(max_connections=600))
    sockets = [connect(server, timeout=10) for _ in range(500)]
    try:
        assert wait_until(lambda: server.stats.open == 500, timeout=10)
        for number, sock in enumerate(sockets):
            sock.sendall(b"client %d\n" % number)
        for number, sock in enumerate(sockets):
            assert read_line(sock) == b"client %d\n" % number
    finally:
        for sock in sockets:
            sock.close()
    assert server.stop()
    assert server.stats.accepted == 500 and server.stats.rejected == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_300_resets_and_still_serving(start, transport, capfd):
    server = start("echo", transport)
    for number in range(300):
        sock = connect(server)
        if number % 2:
            sock.sendall(b"half a li")
        reset(sock)
    assert echo_once(server) == b"ping\n"
    assert wait_until(lambda: server.stats.open == 0)
    assert server.errors == []
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("transport", CONCURRENT)
def test_a_client_that_never_reads_does_not_stop_others(start, transport):
    server = start("echo", transport)
    with connect(server) as greedy:
        greedy.setblocking(False)
        sent = 0
        try:  # send until the buffers both ways are full
            while sent < 64 * 1024 * 1024:
                sent += greedy.send(b"z" * 65536)
        except BlockingIOError:
            pass
        assert sent < 64 * 1024 * 1024, "the server read without sending back"
        assert echo_once(server) == b"ping\n"


@pytest.mark.parametrize("kernel_timeouts", [True, False])
def test_iterative_drops_a_client_that_never_reads_after_the_idle_limit(
    start, monkeypatch, kernel_timeouts
):
    monkeypatch.setattr(timeouts, "KERNEL_TIMEOUTS", kernel_timeouts)
    server = start("echo", "iterative", limits=Limits(idle_timeout=0.5))
    with connect(server) as greedy:
        greedy.setblocking(False)
        try:
            while True:
                greedy.send(b"z" * 65536)
        except BlockingIOError:
            pass
        began = time.monotonic()
        assert echo_once(server) == b"ping\n"
        assert time.monotonic() - began < 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stop_with_100_open_connections(no_leaks, start, transport):
    server = start("echo", transport, limits=Limits(max_connections=200))
    sockets = [connect(server) for _ in range(100)]
    if transport == "threaded":
        assert wait_until(lambda: server.stats.open == 100)
    began = time.monotonic()
    assert server.stop()
    assert time.monotonic() - began < 2.0
    for sock in sockets:
        sock.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_new_server_on_the_same_fixed_port_right_after_a_stop(transport):
    kind = transport_class(transport)
    server = kind(LineSession).start()
    port = server.port
    with connect(server) as sock:  # a connection, so TIME_WAIT is left behind
        sock.sendall(b"quit\n")
        assert read_until_closed(sock) == b"BYE see you next time\r\n"
    assert server.stop()
    again = kind(LineSession, port=port).start()
    try:
        with connect(again) as sock:
            sock.sendall(b"quit\n")
            assert read_until_closed(sock) == b"BYE see you next time\r\n"
    finally:
        assert again.stop()


@pytest.mark.parametrize("transport", CONCURRENT)
def test_busy_when_full_and_admitted_again_when_freed(start, transport):
    server = start("echo", transport, limits=Limits(max_connections=2))
    first, second = connect(server), connect(server)
    assert wait_until(lambda: server.stats.open == 2)
    with connect(server) as third:
        line = read_until_closed(third)
    assert line.startswith(b"ERROR BUSY ") and line.endswith(b"\r\n")
    assert line.count(b"\n") == 1
    assert server.stats.rejected == 1
    for sock in (first, second):  # those already open keep working
        sock.sendall(b"still here\n")
        assert read_line(sock) == b"still here\n"
    first.close()
    assert wait_until(lambda: server.stats.open == 1)
    assert echo_once(server) == b"ping\n"
    second.close()


# -- the common line rules, over a real socket ------------------------------


# "threaded-portable": the blocking transports' receive timeouts as on an OS
# where the kernel does not keep them (select before each recv).
@pytest.fixture(params=[*TRANSPORTS, "threaded-portable"])
def line_server(request, monkeypatch):
    transport, _, portable = request.param.partition("-")
    if portable:
        monkeypatch.setattr(timeouts, "KERNEL_TIMEOUTS", False)
    server = transport_class(transport)(
        LineSession, limits=Limits(idle_timeout=1.0)
    ).start()
    yield server
    assert server.stop()


def test_flood_bad_bytes_and_telnet_over_a_socket(line_server, capfd):
    with connect(line_server) as sock:
        sock.sendall(b"\xff\xfb\x01\xff\xfd\x03")  # telnet negotiation: ignored
        sock.sendall(b"x" * (4 * 1024 * 1024) + b"\n")  # a 4 MiB line
        assert read_line(sock).startswith(b"ERROR LINE-TOO-LONG ")
        sock.sendall(b"\x00\x01\x02\n")
        assert read_line(sock).startswith(b"ERROR BAD-ENCODING ")
        sock.sendall(b"dance\n")
        assert read_line(sock).startswith(b"ERROR UNKNOWN-COMMAND ")
        sock.sendall(b"\r\n\nQUIT\r\n")
        assert read_until_closed(sock) == b"BYE see you next time\r\n"
    assert line_server.errors == []
    assert capfd.readouterr() == ("", "")


def test_half_close_still_gets_the_reply(line_server):
    with connect(line_server) as sock:
        sock.sendall(b"dance\n")
        sock.shutdown(socket.SHUT_WR)  # like `printf 'dance\n' | nc -N`
        assert read_until_closed(sock).startswith(b"ERROR UNKNOWN-COMMAND ")


def test_a_slow_drip_does_not_hold_a_connection_open(line_server):
    """A byte every 0.1 s, never a newline: closed after the 1 s idle limit."""
    stop_dripping = threading.Event()

    def drip(sock: socket.socket) -> None:
        for byte in b"dance without a newline":
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            if stop_dripping.wait(0.1):
                return

    with connect(line_server) as sock:
        began = time.monotonic()
        dripper = threading.Thread(target=drip, args=(sock,))
        dripper.start()
        try:
            answer = read_line(sock)
            waited = time.monotonic() - began
        finally:
            stop_dripping.set()
            dripper.join(5)
        assert answer.startswith(b"ERROR IDLE-TIMEOUT ")
        assert 0.9 < waited < 1.5, f"closed after {waited:.2f} s"
        assert read_until_closed(sock) == b""


def test_half_a_line_then_silence_is_closed_at_the_deadline(line_server):
    """Half a line is no activity: the 1 s limit still counts from the connect."""
    with connect(line_server) as sock:
        began = time.monotonic()
        time.sleep(0.7)  # the test's own pacing: nothing to wait for
        sock.sendall(b"dan")
        answer = read_line(sock)
        waited = time.monotonic() - began
    assert answer.startswith(b"ERROR IDLE-TIMEOUT ")
    assert 0.9 < waited < 1.4, f"closed after {waited:.2f} s"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_failing_session_is_recorded_and_others_are_served(
    transport, capfd, no_leaks
):
    class Broken(LineSession):
        def handle_command(self, command: str, argument: str) -> None:
            if command == "CRASH":
                raise RuntimeError("a bug in the game")
            super().handle_command(command, argument)

    server = transport_class(transport)(Broken).start()
    try:
        with connect(server) as victim:
            victim.sendall(b"crash\n")
            assert read_until_closed(victim) == b""
        assert wait_until(lambda: server.errors)
        (error,) = server.errors
        assert (
            "a bug in the game" in error.message and "RuntimeError" in error.traceback
        )
        assert server.stats.errors == 1
        with connect(server) as other:
            other.sendall(b"quit\n")
            assert read_until_closed(other) == b"BYE see you next time\r\n"
    finally:
        assert server.stop()
    assert capfd.readouterr() == ("", "")


# Threads a server uses while 100 clients are connected: one per connection
# for the lecture's designs, one in all for an event loop (Twisted's shared
# reactor thread is not the server's own and is not counted).
THREADS_FOR_100 = {
    "threaded": 101,
    "socketserver": 101,
    "selectors": 1,
    "asyncio": 1,
    "twisted": 0,
}


@pytest.mark.parametrize("transport", CONCURRENT)
def test_threads_are_named_and_counted_with_100_clients(start, transport):
    before = set(threading.enumerate())
    server = start("echo", transport, limits=Limits(max_connections=200))
    sockets = [connect(server) for _ in range(100)]
    try:
        assert wait_until(lambda: server.stats.open == 100)
        new = set(threading.enumerate()) - before
        new = {t for t in new if t.name != "twisted-reactor"}
        assert all(t.name.startswith(f"labkit-{transport}-") for t in new), new
        assert len(new) == THREADS_FOR_100[transport]
    finally:
        for sock in sockets:
            sock.close()


def test_the_log_is_bounded(start):
    server = start("echo", "threaded")
    for _ in range(300):
        echo_once(server)
    assert len(server.log) <= 500
    assert any("connection from 127.0.0.1" in line for line in server.log)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ipv6_loopback(start, transport):
    if not socket.has_ipv6 or not os.path.exists("/proc/net/if_inet6"):
        pytest.skip("this machine has no IPv6")
    server = start("hello", transport, host="::1")
    with socket.create_connection(("::1", server.port), timeout=5) as sock:
        assert read_until_closed(sock) == b"Hello ::1\r\n"
