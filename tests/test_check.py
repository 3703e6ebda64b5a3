"""labkit check against labkit's servers, a gallery of learners' bugs, and bad servers.

Real servers on loopback: every labkit transport, the gallery's plain
socket + threading servers (tests/gallery/), and servers that hang, stay
silent or flood. Each gallery bug must be caught by the case that names it,
and by no other.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from gallery import blackjack_servers, echo_servers, hello_servers
from gallery.harness import running
from support import wait_until

import labkit
from labkit.check import CannotConnect, case_names, check, parse_target
from labkit.transports import TRANSPORTS

CONCURRENT = [t for t in TRANSPORTS if t != "iterative"]
SERVICES = ("hello", "echo", "blackjack")


def failed(report) -> set[str]:
    return {result.name for result in report.failures}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("transport", CONCURRENT)
def test_every_concurrent_transport_passes_every_case(start, service, transport):
    report = check(service, start(service, transport))
    assert report.ok, str(report)
    assert (
        str(report).splitlines()[-1]
        == f"{report.total} of {report.total} checks passed"
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("service", ("echo", "blackjack"))
def test_the_iterative_server_fails_only_several_clients(start, service):
    report = check(service, start(service, "iterative"))
    name = {"echo": "several-clients", "blackjack": "several-players"}[service]
    assert failed(report) == {name}, str(report)
    result = report[name]
    assert "at a time" in result.hint and "threading.Thread" in result.hint
    assert any("nothing within" in line for line in result.received)
    assert f"FAIL {name}" in str(report)


@pytest.mark.timeout(60)
def test_hello_on_the_iterative_server_passes(start):
    assert check("hello", start("hello", "iterative")).ok


def gallery(module):
    return [(bug.__name__, bug, cases) for bug, cases in module.BUGS.items()]


def serving(bug):
    """The function that runs the accept loop: a Blackjack bug's is its serve."""
    return bug.serve if isinstance(bug, type) else bug


GALLERY = [
    *(("hello", *entry) for entry in gallery(hello_servers)),
    *(("echo", *entry) for entry in gallery(echo_servers)),
    *(("blackjack", *entry) for entry in gallery(blackjack_servers)),
]


def test_the_gallery_holds_at_least_12_different_bugs():
    assert len(GALLERY) >= 12
    for service, name, bug, _ in GALLERY:
        assert bug.__doc__ and bug.__doc__.startswith("Bug:"), (service, name)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "service, serve",
    [
        ("hello", hello_servers.correct),
        ("echo", echo_servers.correct),
        ("blackjack", blackjack_servers.Blackjack.serve),
    ],
)
def test_the_correct_learner_servers_pass(service, serve):
    with running(serve) as server:
        report = check(service, server)
    assert report.ok, str(report)


@pytest.mark.timeout(60)
# CrashesOnNonAscii's handler thread dies of its bug, as a learner's would.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize(
    "service, bug, serve, cases", GALLERY, ids=[f"{g[0]}-{g[1]}" for g in GALLERY]
)
def test_each_gallery_bug_is_caught_by_the_case_that_names_it(
    service, bug, serve, cases
):
    with running(serving(serve)) as server:
        report = check(service, server)
    assert failed(report) == cases, str(report)
    for name in cases:
        result = report[name]
        assert result.expected and result.hint and result.received, str(report)
        assert f"FAIL {name}" in str(report)


def test_a_rule_bug_shows_the_line_that_broke_it():
    with running(serving(blackjack_servers.DealerStandsOn16)) as server:
        report = check("blackjack", server, only=["dealer-rule"])
    result = report["dealer-rule"]
    assert "the dealer stopped at 16" in result.expected, result.expected
    assert any(line.startswith("[") and "RESULT" in line for line in result.received)


# -- servers that misbehave: the run stays bounded, and leaves nothing behind --


class BadServer:
    """A raw listener that does one bad thing with every connection."""

    def __init__(self, behave) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.address = self.listener.getsockname()
        self.conns: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(behave,), daemon=True)
        self.thread.start()

    def _run(self, behave) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(
                target=self._quietly, args=(behave, conn), daemon=True
            ).start()

    def _quietly(self, behave, conn) -> None:
        try:
            behave(conn, self.stopping)
        except OSError:
            pass

    def close(self) -> None:
        self.stopping.set()
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for conn in self.conns:
            conn.close()
        self.thread.join(2)


def never_reads(conn, stopping) -> None:
    stopping.wait()  # accepts, then nothing at all


def floods(conn, stopping) -> None:
    while not stopping.is_set():
        conn.sendall(b"x" * 65536)


def garbage(conn, stopping) -> None:
    conn.sendall(b"\x00\xff garbage \x80\r\n" * 3)
    stopping.wait()


def closes_at_once(conn, stopping) -> None:
    conn.close()


BAD = {
    "never-reads": never_reads,
    "floods": floods,
    "garbage": garbage,
    "closes-at-once": closes_at_once,
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("behaviour", BAD)
def test_a_bad_server_fails_every_case_in_bounded_time(no_leaks, service, behaviour):
    server = BadServer(BAD[behaviour])
    threads = threading.active_count()
    try:
        began = time.monotonic()
        report = check(service, server)
        elapsed = time.monotonic() - began
    finally:
        server.close()
    assert elapsed < 60, f"{elapsed:.1f} s"
    assert report.passed == 0, str(report)
    assert report.total == len(case_names(service))
    # The server's own threads end once it closes; the checker started none.
    assert wait_until(lambda: threading.active_count() <= threads)


@pytest.mark.timeout(30)
def test_nothing_listening_raises_cannot_connect():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = sock.getsockname()  # bound, not listening: refused
        with pytest.raises(CannotConnect, match="nothing listens"):
            check("echo", address)


@pytest.mark.timeout(30)
def test_targets_and_only(start):
    server = start("echo", "threaded")
    host, port = server.address
    assert parse_target(f"{host}:{port}") == (host, port)
    assert parse_target("[::1]:9000") == ("::1", 9000)
    assert parse_target(server) == (host, port)
    report = check("echo", f"{host}:{port}", only=["binary", "one-message"])
    assert [r.name for r in report.results] == ["one-message", "binary"]
    with pytest.raises(ValueError, match="no case 'nope'"):
        check("echo", server, only=["nope"])
    with pytest.raises(ValueError, match="no checks for 'tables'"):
        check("tables", server)


def test_labkit_exports_check():
    assert labkit.check is check and "check" in labkit.__all__
