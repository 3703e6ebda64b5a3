"""Real programs play Blackjack against ``python -m labkit serve blackjack``.

Debian's ``telnet`` and ``nc`` (required in CI), and labkit's own ``telnet``
and ``play`` commands, each play a full round in a pseudo-terminal (pexpect).
The server runs as a subprocess with a seed, and the lines each program must
show are worked out beforehand by a BlackjackSession with the same seed.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pexpect
import pytest
from support import ServeProcess, require_program

from labkit.blackjack import check_transcript
from labkit.services.blackjack import BlackjackSession

pytestmark = [pytest.mark.realclient, pytest.mark.timeout(60)]

WELCOME = "WELCOME labkit-blackjack/1 type HELP for commands"


def answers(seed: int, *commands: str) -> list[list[str]]:
    """The lines a server seeded with ``seed`` sends for each command in turn."""
    session = BlackjackSession("127.0.0.1", seed=seed)
    replies = [session.connection_made()]
    for command in commands:
        replies.append(session.data_received(command.encode() + b"\r\n"))
    return [reply.decode().split("\r\n")[:-1] for reply in replies]


def seed_for_a_round_with_a_turn() -> int:
    """A seed whose first deal leaves the player a move (no 21 on the deal)."""
    return next(
        s for s in range(1, 100) if answers(s, "DEAL")[1][-1] == "TURN HIT STAND"
    )


SEED = seed_for_a_round_with_a_turn()
GREETING, DEALT, STOOD = answers(SEED, "DEAL", "STAND")


def test_the_expected_round_is_a_real_round():
    transcript = [("S", GREETING[0]), ("C", "DEAL"), *(("S", line) for line in DEALT),
                  ("C", "STAND"), *(("S", line) for line in STOOD)]  # fmt: skip
    assert len(check_transcript(transcript).results) == 1
    assert GREETING == [WELCOME] and STOOD[-1].startswith("SCORE ")


def expect_lines(child: pexpect.spawn, lines: list[str]) -> None:
    for line in lines:
        child.expect_exact(line)


def play_a_round(
    child: pexpect.spawn, deal: str = "deal", stand: str = "stand"
) -> None:
    expect_lines(child, GREETING)
    child.sendline(deal)
    expect_lines(child, DEALT)
    child.sendline(stand)
    expect_lines(child, STOOD)


@pytest.mark.parametrize("transport", ["threaded", "iterative"])
def test_debian_telnet_plays_a_round(transport):
    telnet = require_program("telnet")
    with ServeProcess(
        "blackjack", "--seed", str(SEED), "--transport", transport
    ) as server:
        child = pexpect.spawn(telnet, [server.host, str(server.port)], timeout=10)
        child.expect_exact(b"Escape character is")
        play_a_round(child)
        child.sendline("quit")
        child.expect_exact("BYE see you next time")
        child.expect_exact("Connection closed by foreign host.")
        child.expect(pexpect.EOF)
        assert server.stop() == 0


def test_debian_nc_plays_a_round():
    nc = require_program("nc")
    with ServeProcess("blackjack", "--seed", str(SEED)) as server:
        child = pexpect.spawn(nc, [server.host, str(server.port)], timeout=10)
        play_a_round(child, deal="DEAL", stand="Stand")  # nc sends LF only
        child.sendline("QUIT")
        child.expect_exact("BYE see you next time")
        child.sendeof()  # nc leaves once its input ends too
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_nc_half_close_after_deal_still_gets_the_deal():
    """``printf 'DEAL\\n' | nc -N HOST PORT``"""
    nc = require_program("nc")
    with ServeProcess("blackjack", "--seed", str(SEED)) as server:
        result = subprocess.run(
            [nc, "-N", server.host, str(server.port)],
            input=b"DEAL\n",
            capture_output=True,
            timeout=10,
        )
    assert result.returncode == 0
    assert result.stdout.decode().split("\r\n")[:-1] == GREETING + DEALT


def test_labkit_telnet_plays_a_round():
    with ServeProcess("blackjack", "--seed", str(SEED)) as server:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "labkit", "telnet", server.host, str(server.port)],
            timeout=10,
        )
        play_a_round(child, deal="DeAl")
        child.sendline("quit")
        child.expect_exact("BYE see you next time")
        child.expect_exact("Connection closed by the server.")
        child.expect(pexpect.EOF)


def cards_as_played(line: str, fancy: bool) -> str:
    """How ``play`` draws a protocol HAND line's cards."""
    symbols = {"C": "\u2663", "D": "\u2666", "H": "\u2665", "S": "\u2660"}
    words = line.split()[3:]
    drawn = []
    for word in words:
        if word == "??":
            drawn.append("\U0001f0a0" if fancy else "??")
        else:
            drawn.append(word[:-1] + (symbols[word[-1]] if fancy else word[-1]))
    return " ".join(drawn)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_labkit_play_plays_a_round(encoding):
    fancy = encoding == "utf-8"
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    with ServeProcess("blackjack", "--seed", str(SEED)) as server:
        child = pexpect.spawn(
            sys.executable,
            ["-m", "labkit", "play", server.host, str(server.port)],
            timeout=10,
            env=env,
            encoding="utf-8",
        )
        child.logfile_read = shown = io.StringIO()
        child.expect_exact("labkit-blackjack/1")
        child.expect_exact("[d]eal or [q]uit? ")
        child.sendline("d")
        upcard, player = DEALT[0], DEALT[1]
        child.expect_exact("Dealer: " + cards_as_played(upcard, fancy))
        child.expect_exact(
            f"You:    {cards_as_played(player, fancy)}  ({player.split()[2]})"
        )
        child.expect_exact("[h]it or [s]tand? ")
        child.sendline("stand")
        for line in STOOD:
            if line.startswith("HAND DEALER"):
                child.expect_exact(
                    f"Dealer: {cards_as_played(line, fancy)}  ({line.split()[2]})"
                )
        wins, losses, pushes = STOOD[-1].split()[1:]
        child.expect_exact(f"Score: {wins} won, {losses} lost, {pushes} pushed.")
        child.sendline("score")
        child.expect_exact(f"Score: {wins} won, {losses} lost, {pushes} pushed.")
        child.sendline("h")  # no round in play: the server says not now
        child.expect_exact("Not now: no round in play")
        child.sendline("q")
        child.expect_exact("Server: see you next time")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    assert shown.getvalue().isascii() != fancy


@pytest.mark.parametrize("transport", ["threaded", "selectors", "twisted"])
def test_ctrl_c_in_debian_telnet_leaves_the_round_playable(transport):
    # Telnet's Ctrl-C sends IAC IP and IAC DO TIMING-MARK, then hides all
    # output until the server answers the mark: unanswered, SCORE would
    # seem to go unanswered forever.
    telnet = require_program("telnet")
    stood = answers(SEED, "DEAL", "SCORE", "STAND")[3]
    with ServeProcess(
        "blackjack", "--seed", str(SEED), "--transport", transport
    ) as server:
        child = pexpect.spawn(telnet, [server.host, str(server.port)], timeout=10)
        child.expect_exact(b"Escape character is")
        expect_lines(child, GREETING)
        child.sendline("deal")
        expect_lines(child, DEALT)
        child.send("sta")  # half a line, then Ctrl-C throws it away
        child.sendcontrol("c")
        child.sendline("score")
        child.expect_exact("SCORE 0 0 0", timeout=2)
        child.sendline("stand")  # the round is still in play
        expect_lines(child, stood)
        child.sendline("quit")
        child.expect_exact("BYE")
        child.expect(pexpect.EOF)
