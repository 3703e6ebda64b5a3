"""Blackjack over real sockets on loopback: many players, faults, limits, the client.

Every conversation is judged by the one protocol checker
(:func:`labkit.blackjack.check.check_transcript`).
"""

from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time

import pytest
from support import wait_until

from labkit import Limits
from labkit.blackjack import BlackjackClient, ServerRefused, check_transcript
from labkit.clients import ConnectionClosed, ProtocolError
from labkit.services.blackjack import BlackjackSession
from labkit.session import LineSession
from labkit.transports import TRANSPORTS as ALL_TRANSPORTS
from labkit.transports import transport_class

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = ["threaded", "iterative"]
WELCOME = "WELCOME labkit-blackjack/1 type HELP for commands"


class Raw:
    """A plain socket that reads CRLF lines, for sending bytes no client would."""

    def __init__(self, server, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(server.address, timeout=timeout)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> str:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed after {self.buffer!r}"
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line.decode("ascii")

    def lines(self, count: int) -> list[str]:
        return [self.line() for _ in range(count)]

    def rest(self) -> list[str]:
        """Every line until the server closes."""
        while chunk := self.sock.recv(65536):
            self.buffer += chunk
        assert self.buffer.endswith(b"\r\n") or not self.buffer
        lines, self.buffer = self.buffer.decode("ascii").split("\r\n")[:-1], b""
        return lines

    def reset(self) -> None:
        """Close with SO_LINGER 0: the kernel sends RST, not FIN."""
        self.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


def play_round(client: BlackjackClient, rng: random.Random | None = None) -> None:
    """Hit below 17 (or at random with ``rng``) until the round is settled."""
    table = client.deal()
    while table.actions:
        hit = rng.random() < 0.5 if rng else table.player.total < 17
        table = client.hit() if hit else client.stand()
    assert table.result is not None and table.score is not None


def assert_clean(server) -> None:
    """Every connection counted out, nothing went wrong inside."""
    assert wait_until(lambda: server.stats.open == 0), server.stats
    assert server.errors == [], server.errors


# -- playing ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_client_plays_rounds_on_each_transport(no_leaks, start, transport):
    server = start("blackjack", transport, seed=3)
    with BlackjackClient(server) as client:
        assert client.welcome.text == "type HELP for commands"
        for _ in range(4):
            play_round(client)
        assert client.score() == client.table.score
        assert len(client.help()) >= 3
        with pytest.raises(ServerRefused) as refused:
            client.stand()
        assert refused.value.code == "NOT-NOW"
        assert client.quit() == "see you next time"
        with pytest.raises(ConnectionClosed):
            client.deal()
        checker = check_transcript(client.transcript)
    assert len(checker.results) == 4
    assert_clean(server)


@pytest.mark.parametrize("transport", ALL_TRANSPORTS)
def test_every_transport_deals_the_same_seeded_game(request, start, transport):
    """The session decides everything: any transport carries the same lines."""
    if transport != "twisted":  # Twisted's reactor, once started, stays for good
        request.getfixturevalue("no_leaks")
    server = start("blackjack", transport, seed=8)
    with BlackjackClient(server) as client:
        for _ in range(3):
            play_round(client)
        client.help()
        client.quit()
        sent = [line for side, line in client.transcript if side == "C"]
        received = [line for side, line in client.transcript if side == "S"]
        check_transcript(client.transcript)
    session = BlackjackSession("127.0.0.1", seed=8)
    reply = session.connection_made()
    reply += session.data_received("".join(f"{line}\r\n" for line in sent).encode())
    assert reply.decode().split("\r\n")[:-1] == received
    assert_clean(server)
    assert server.stop()  # before no_leaks looks


@pytest.mark.parametrize("seed", [None, 11])
def test_200_clients_play_5_rounds_each_at_the_same_time(no_leaks, start, seed):
    players, rounds = 200, 5
    server = start(
        "blackjack", "threaded", seed=seed, limits=Limits(max_connections=players)
    )
    everyone_connected = threading.Barrier(players, timeout=30)
    transcripts: list[list[tuple[str, str]] | None] = [None] * players
    failures: list[BaseException] = []

    def player(number: int) -> None:
        try:
            with BlackjackClient(server, timeout=30) as client:
                everyone_connected.wait()
                for _ in range(rounds):
                    play_round(client)
                client.quit()
                transcripts[number] = client.transcript
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=player, args=(n,)) for n in range(players)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert not failures, failures[:3]
    assert server.stats.accepted == players and server.stats.rejected == 0
    for transcript in transcripts:
        assert len(check_transcript(transcript).results) == rounds
    distinct = {tuple(transcript) for transcript in transcripts}
    if seed is None:
        assert len(distinct) > players // 2  # every connection shuffles its own way
    else:
        assert len(distinct) == 1  # the same commands, the same cards, every time
    assert_clean(server)


def test_iterative_serves_one_player_at_a_time(no_leaks, start):
    server = start("blackjack", "iterative", seed=1)
    first = Raw(server)
    assert first.line() == WELCOME
    second = Raw(server)  # queued in the listen backlog
    ready, _, _ = select.select([second.sock], [], [], 0.3)
    assert not ready, "the iterative server greeted a second player while busy"
    first.send(b"QUIT\n")
    assert first.rest() == ["BYE see you next time"]
    first.close()
    assert second.line() == WELCOME
    second.close()
    assert_clean(server)


# -- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_half_close_after_deal_still_gets_the_whole_answer(no_leaks, start, transport):
    """``printf 'DEAL\\n' | nc -N``: the client shuts its sending side at once."""
    server = start("blackjack", transport)
    raw = Raw(server)
    raw.send(b"DEAL\n")
    raw.sock.shutdown(socket.SHUT_WR)
    lines = raw.rest()
    raw.close()
    assert lines[0] == WELCOME
    assert lines[1].startswith("HAND DEALER ? ") and lines[2].startswith("HAND PLAYER ")
    assert lines[-1] == "TURN HIT STAND" or lines[-1].startswith("SCORE ")
    check_transcript(
        [("S", lines[0]), ("C", "DEAL"), *(("S", line) for line in lines[1:])]
    )
    assert_clean(server)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_resets_mid_round_end_quietly_and_others_keep_playing(
    no_leaks, start, transport
):
    server = start("blackjack", transport)
    for number in range(30):
        raw = Raw(server)
        if number % 3:
            assert raw.line() == WELCOME
            raw.send(b"DEAL\nHIT\n" if number % 3 == 1 else b"DE")
        raw.reset()
    with BlackjackClient(server) as client:
        play_round(client)
        client.quit()
        check_transcript(client.transcript)
    assert_clean(server)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_flood_without_newline_gets_one_error_and_the_round_goes_on(
    no_leaks, start, transport
):
    server = start("blackjack", transport, seed=5)
    raw = Raw(server, timeout=10)
    assert raw.line() == WELCOME
    raw.send(b"DEAL\n")
    dealt = raw.lines(3)
    assert dealt[-1] == "TURN HIT STAND", "seed 5 must leave the round in play"
    block = b"A" * 65536
    for _ in range(16):  # 1 MiB, no newline
        raw.send(block)
    raw.send(b"\nSCORE\n")
    assert raw.lines(2) == [
        "ERROR LINE-TOO-LONG lines are limited to 512 bytes; line ignored",
        "SCORE 0 0 0",
    ]
    raw.send(b"STAND\n")
    lines = [raw.line()]
    while not lines[-1].startswith("SCORE"):
        lines.append(raw.line())
    raw.close()
    check_transcript(
        [("S", WELCOME), ("C", "DEAL"), *(("S", d) for d in dealt), ("C", "SCORE"),
         ("S", "SCORE 0 0 0"), ("C", "STAND"), *(("S", line) for line in lines)]
    )  # fmt: skip
    assert_clean(server)


def test_a_flood_of_commands_gets_every_answer_in_order(no_leaks, start):
    server = start("blackjack", "threaded", seed=5)
    raw = Raw(server, timeout=10)
    commands = [random.Random(n).choice(["SCORE", "HIT", "DEAL", "STAND", "FOO"])
                for n in range(5000)]  # fmt: skip
    received: list[str] = []

    def read_everything() -> None:
        received.extend(raw.rest())

    reader = threading.Thread(target=read_everything)
    reader.start()  # read while writing: the server sends before it reads more
    raw.send("".join(f"{c}\n" for c in commands).encode() + b"QUIT\n")
    reader.join(30)
    assert not reader.is_alive()
    raw.close()
    checker = check_transcript(
        [("C", c) for c in [*commands, "QUIT"]] + [("S", line) for line in received]
    )
    assert checker.closed and checker.results
    assert_clean(server)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_bytes_get_bad_encoding_and_change_nothing(no_leaks, start, transport):
    server = start("blackjack", transport, seed=5)
    raw = Raw(server)
    assert raw.line() == WELCOME
    bad = "ERROR BAD-ENCODING lines must be printable ASCII; line ignored"
    raw.send(b"DE\x00AL\n\x80\x81\x82\r\nDEAL\x1b[A\n")
    assert raw.lines(3) == [bad] * 3
    raw.send(b"SCORE\n")
    assert raw.line() == "SCORE 0 0 0"  # no round was dealt
    raw.send(b"DEAL\n")
    dealt = raw.lines(3)
    raw.send(b"ST\xc3\xa4ND\nHIT\xe2\x80\x8b\n")  # UTF-8 look-alikes
    assert raw.lines(2) == [bad] * 2
    raw.send(b"QUIT\n")
    rest = raw.rest()
    raw.close()
    assert rest == ["BYE see you next time"]
    assert dealt[0].startswith("HAND DEALER ? ")
    assert_clean(server)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_telnet_commands_are_removed_silently(no_leaks, start, transport):
    server = start("blackjack", transport, seed=5)
    raw = Raw(server)
    assert raw.line() == WELCOME
    # WILL TERMINAL-TYPE, DO SUPPRESS-GO-AHEAD, a subnegotiation, a NOP, IAC split.
    raw.send(b"\xff\xfb\x18\xff\xfd\x03DE\xff\xfa\x18\x00xterm\xff\xf0A\xff\xf1L\r\n")
    raw.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for piece in (b"SC", b"\xff", b"\xfd", b"\x01OR", b"E\r\n"):
        raw.send(piece)
    lines = raw.lines(4)
    assert lines[0].startswith("HAND DEALER ? ")
    assert lines[2:] == ["TURN HIT STAND", "SCORE 0 0 0"]
    raw.close()
    assert_clean(server)


def test_busy_turns_the_third_player_away_and_the_others_play_on(no_leaks, start):
    server = start("blackjack", "threaded", limits=Limits(max_connections=2))
    first, second = BlackjackClient(server), BlackjackClient(server)
    raw = Raw(server)
    assert raw.rest() == [
        "ERROR BUSY the server is at its limit of 2 connections; try again later"
    ]
    raw.close()
    with pytest.raises(ServerRefused) as refused:
        BlackjackClient(server)
    assert refused.value.code == "BUSY"
    for client in (first, second):
        play_round(client)
        client.quit()
        check_transcript(client.transcript)
        client.close()
    assert server.stats.rejected == 2
    assert_clean(server)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_idle_limit_closes_a_slow_drip_client(no_leaks, start, transport):
    limit = 1.0
    # seed 5 leaves the round in play: an unseeded deal of 21 would end it at once.
    server = start("blackjack", transport, limits=Limits(idle_timeout=limit), seed=5)
    raw = Raw(server)
    assert raw.line() == WELCOME
    started = time.monotonic()
    raw.send(b"DEAL\n")  # a complete line: activity, the clock starts again
    assert raw.lines(3)[2] == "TURN HIT STAND"
    for byte in b"SCORE" * 100:  # one byte every 0.1 s, never a newline
        ready, _, _ = select.select([raw.sock], [], [], 0.1)
        if ready:
            break
        try:
            raw.send(bytes([byte]))
        except OSError:
            break
    lines = raw.rest()
    elapsed = time.monotonic() - started
    raw.close()
    assert lines == ["ERROR IDLE-TIMEOUT no command for 1 seconds; closing"]
    assert limit <= elapsed < limit + 1.5
    assert_clean(server)


# -- the client against servers that break the protocol ----------------------------


class Liar(LineSession):
    """A server that answers DEAL with whatever lines ``script`` holds."""

    script: list[str] = []

    def connection_made(self) -> bytes:
        self.send_line(WELCOME)
        return self.take_output()

    def handle_command(self, command: str, argument: str) -> None:
        for line in self.script:
            self.send_line(line)


def liar(script: list[str]):
    session_class = type("ScriptedLiar", (Liar,), {"script": script})
    return transport_class("threaded")(session_class).start()


@pytest.mark.parametrize(
    "script, quoted",
    [
        (["HAND DEALER ? 10H ??", "HAND PLAYER 16 9C 6D"], "HAND PLAYER 16 9C 6D"),
        (["HAND DEALER ? 10H ??", "HAND PLAYER 20 10H QD"], "HAND PLAYER 20 10H QD"),
        (["HAND DEALER 10H 7S"], "HAND DEALER 10H 7S"),
        (["TURN HIT STAND"], "TURN HIT STAND"),
        (["hand dealer ? 10H ??"], "hand dealer ? 10H ??"),
    ],
)
def test_the_client_quotes_the_line_that_breaks_the_protocol(no_leaks, script, quoted):
    with liar(script) as server, BlackjackClient(server) as client:
        with pytest.raises(ProtocolError) as broken:
            client.deal()
        assert repr(quoted) in str(broken.value)
        assert broken.value.line == quoted


def test_the_client_skips_lines_with_unknown_keywords(no_leaks):
    script = ["X-CHAT hello from table 2", "HAND DEALER ? 10H ??", "X-TIP hit",
              "HAND PLAYER 15 9C 6D", "TURN HIT STAND"]  # fmt: skip
    with liar(script) as server, BlackjackClient(server) as client:
        table = client.deal()
    assert table.actions == ("HIT", "STAND")
    assert str(table.dealer.cards[0]) == "10H" and table.dealer.hidden
    assert [str(card) for card in table.player.cards] == ["9C", "6D"]
    assert table.player.total == 15 and table.in_play


def test_the_client_times_out_on_a_silent_server(no_leaks):
    with liar([]) as server, BlackjackClient(server, timeout=0.5) as client:
        with pytest.raises(TimeoutError):
            client.deal()


def test_the_client_reports_an_idle_timeout_as_a_refusal(no_leaks, start):
    server = start("blackjack", "threaded", limits=Limits(idle_timeout=0.3))
    with BlackjackClient(server) as client:
        assert wait_until(lambda: server.stats.open == 0)  # the server gave up on us
        with pytest.raises(ServerRefused) as refused:
            client.deal()
        assert refused.value.code == "IDLE-TIMEOUT"
        with pytest.raises(ConnectionClosed):
            client.score()
        check_transcript(client.transcript)
