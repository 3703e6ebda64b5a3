"""Faults, floods and hostile input against live Blackjack servers, every transport.

Beyond the conformance suite: random byte streams with the protocol checked
on every reply, a thousand resets, a 64 MiB line, a thousand idle clients
and a stop, the limit reached and freed. Each test adds a row to the
reliability report (``docs/RELIABILITY.md``, written by ``make reliability``).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import reliability
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rawsockets import connect, read_until_closed, reset
from support import wait_until

import labkit
from labkit import Limits
from labkit.blackjack import BlackjackClient, ServerRefused, check_transcript
from labkit.framing import IAC, LineFramer
from labkit.transports import TRANSPORTS

CONCURRENT = [t for t in TRANSPORTS if t != "iterative"]
WELCOME = b"WELCOME labkit-blackjack/1 "


@pytest.fixture(scope="module")
def servers():
    """One seeded Blackjack server per transport, for the random streams."""
    running: dict[str, labkit.Server] = {}

    def server_for(transport: str) -> labkit.Server:
        if transport not in running:
            running[transport] = labkit.make_server(
                "blackjack", transport, seed=5, limits=Limits(idle_timeout=10)
            ).start()
        return running[transport]

    yield server_for
    for server in running.values():
        assert server.stop()


def still_plays(server) -> None:
    """A fresh player can play a whole round: the server is unharmed."""
    with BlackjackClient(server, timeout=10) as player:
        table = player.deal()
        while table.actions:
            table = player.stand()
        assert table.result is not None and player.quit()


# -- random streams, the protocol checked on every reply ---------------------

commands = st.sampled_from(
    ["DEAL", "deal", "HIT", "hit me", "STAND", " stand ", "SCORE", "HELP", ""]
)
junk = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    st.binary(max_size=12).filter(lambda b: b"\n" not in b and IAC not in b),
    st.just(b"x" * 700),  # too long
).map(lambda j: j if isinstance(j, bytes) else j.encode())
telnet = st.sampled_from(
    [b"\xff\xfb\x01", b"\xff\xfd\x03", b"\xff\xf1", b"\xff\xfa\x18\x00\xff\xf0"]
)
line = st.one_of(commands.map(str.encode), junk)
stream = st.lists(
    st.tuples(line, st.lists(telnet, max_size=1), st.booleans()), max_size=12
)


def wire_bytes(lines) -> tuple[bytes, list[str]]:
    """The bytes to send, and each line as the server will read it."""
    data, seen = b"", []
    for body, commands_inside, crlf in lines:
        data += body[:1] + b"".join(commands_inside) + body[1:]
        data += b"\r\n" if crlf else b"\n"
        # one CR before the LF is part of the line's end
        seen.append((body if crlf else body.removesuffix(b"\r")).decode("latin-1"))
    return data + b"QUIT\r\n", [*seen, "QUIT"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("transport", TRANSPORTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=stream, chunk=st.integers(1, 64))
def test_random_streams_keep_the_protocol(servers, transport, lines, chunk):
    server = servers(transport)
    data, seen = wire_bytes(lines)
    with connect(server) as sock:
        for start in range(0, len(data), chunk):
            sock.sendall(data[start : start + chunk])
        reply = read_until_closed(sock)
    assert reply.endswith(b"BYE see you next time\r\n")
    received = reply.decode("ascii").split("\r\n")[:-1]
    transcript = [("C", text) for text in seen] + [("S", text) for text in received]
    check_transcript(transcript)  # raises ProtocolError quoting a bad line
    streams_checked[transport] = streams_checked.get(transport, 0) + 1
    reliability.add(
        "random commands, bytes, telnet and chunking (hypothesis)",
        transport,
        f"{streams_checked[transport]} streams, every reply checked",
    )


streams_checked: dict[str, int] = {}


def test_the_stream_model_matches_the_framer():
    """wire_bytes() must describe lines as the server's framer reads them."""
    data, seen = wire_bytes([(b"de\xffal", [b"\xff\xfb\x01"], True)])
    events = LineFramer().feed(data)
    assert len(events) == len(seen) == 2


# -- floods and faults -----------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_1000_connect_and_reset(transport, capfd, no_leaks):
    with labkit.make_server("blackjack", transport).start() as server:
        began = time.monotonic()
        for number in range(1000):
            sock = connect(server)
            if number % 3 == 1:
                sock.sendall(b"DEAL\r\nHI")  # reset in the middle of a line
            reset(sock)
        elapsed = time.monotonic() - began
        assert wait_until(lambda: server.stats.open == 0, timeout=10)
        still_plays(server)
        assert server.errors == []
    assert capfd.readouterr() == ("", "")
    reliability.add(
        "1,000 connect-and-reset, a third mid-line",
        transport,
        f"{elapsed:.1f} s, then a full round",
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_close_in_the_middle_of_a_line_and_half_close(transport, no_leaks):
    with labkit.make_server("blackjack", transport, seed=1).start() as server:
        with connect(server) as sock:
            sock.sendall(b"DEA")  # and close with the line unfinished
        with connect(server) as sock:
            sock.sendall(b"DEAL\r\nSCORE\r\n")
            sock.shutdown(socket.SHUT_WR)  # what `nc -N` does
            lines = read_until_closed(sock).split(b"\r\n")
        assert lines[0].startswith(WELCOME) and lines[-2] == b"SCORE 0 0 0"
        still_plays(server)
        assert server.errors == []
    reliability.add(
        "close mid-line; half-close after DEAL",
        transport,
        "reply complete, server unharmed",
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_64_mib_line(transport, no_leaks):
    with labkit.make_server("blackjack", transport).start() as server:
        with connect(server, timeout=30) as sock:
            sock.recv(100)  # WELCOME
            sender = threading.Thread(target=send_64_mib, args=(sock,))
            began = time.monotonic()
            sender.start()
            reply = b""
            while not reply.endswith(b"SCORE 0 0 0\r\n"):
                chunk = sock.recv(65536)
                assert chunk, f"closed after {reply!r}"
                reply += chunk
            sender.join(30)
            elapsed = time.monotonic() - began
        assert reply.startswith(b"ERROR LINE-TOO-LONG ") and reply.count(b"\r\n") == 2
        assert server.errors == []
    rate = 64 / elapsed
    reliability.add(
        "a 64 MiB line, then SCORE",
        transport,
        f"one ERROR LINE-TOO-LONG, {rate:.0f} MiB/s",
    )


def send_64_mib(sock: socket.socket) -> None:
    block = b"A" * (1 << 20)
    for _ in range(64):
        sock.sendall(block)
    sock.sendall(b"\r\nSCORE\r\n")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("transport", CONCURRENT)
def test_1000_idle_connections_then_a_stop_within_2_s(transport, no_leaks):
    server = labkit.make_server(
        "blackjack", transport, limits=Limits(max_connections=1000)
    ).start()
    sockets = []
    try:
        for _ in range(1000):
            sockets.append(connect(server))
        assert wait_until(lambda: server.stats.open == 1000, timeout=30)
        with connect(server) as one_too_many:
            assert read_until_closed(one_too_many).startswith(b"ERROR BUSY ")
        began = time.monotonic()
        assert server.stop()
        elapsed = time.monotonic() - began
        assert elapsed < 2.0
    finally:
        server.stop()
        for sock in sockets:
            sock.close()
    reliability.add(
        "1,000 idle connections, then stop()", transport, f"stopped in {elapsed:.2f} s"
    )


@pytest.mark.parametrize("transport", CONCURRENT)
def test_the_limit_reached_then_freed(transport, no_leaks):
    with labkit.make_server(
        "blackjack", transport, limits=Limits(max_connections=3)
    ).start() as server:
        players = [BlackjackClient(server) for _ in range(3)]
        with pytest.raises(ServerRefused, match="BUSY"):
            BlackjackClient(server)
        players.pop().quit()
        assert wait_until(lambda: server.stats.open == 2)
        still_plays(server)
        for player in players:  # those already seated were never disturbed
            player.deal()
            player.close()
        assert server.stats.rejected == 1
    reliability.add(
        "connection limit reached, then freed", transport, "BUSY, then seated again"
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_exception_inside_a_session(transport, capfd, no_leaks):
    from labkit.services.blackjack import BlackjackSession

    class Faulty(BlackjackSession):
        def handle_command(self, command: str, argument: str) -> None:
            if command == "HIT":
                raise ZeroDivisionError("injected")
            super().handle_command(command, argument)

    server_class = labkit.transports.transport_class(transport)
    with server_class(Faulty, service="blackjack").start() as server:
        with connect(server) as sock:
            sock.sendall(b"DEAL\r\nHIT\r\n")
            assert read_until_closed(sock).startswith(WELCOME)
        assert wait_until(lambda: server.errors)
        assert "ZeroDivisionError" in server.errors[0].message
        still_plays(server)
    assert capfd.readouterr() == ("", "")
    reliability.add(
        "an exception injected into a session",
        transport,
        "on the handle, not printed; others served",
    )
