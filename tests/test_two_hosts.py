"""Two hosts: network namespaces on one switch (as root; required in CI).

Host A (192.0.2.1) runs the Blackjack server; host B (192.0.2.2) plays.
tests/netns.py makes the hosts: they exist only inside this machine, for
the length of this module's tests.
"""

from __future__ import annotations

import subprocess
import sys

import netns
import pytest
import reliability
from support import ServeProcess

HOST_A, HOST_B = "192.0.2.1", "192.0.2.2"

PLAY_A_ROUND = """
import sys
from labkit.blackjack import BlackjackClient
with BlackjackClient(sys.argv[1], int(sys.argv[2]), timeout=10) as player:
    table = player.deal()
    while table.actions:
        table = player.stand()
    print(table.result.outcome, player.quit())
"""

CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
    print("connected")
except OSError as exc:
    print(type(exc).__name__)
"""


@pytest.fixture(scope="module")
def hosts():
    """Two hosts, A and B, and the command prefix to run a program on each."""
    with netns.hosts({"A": HOST_A, "B": HOST_B}) as prefixes:
        yield prefixes


def run_in(prefix: tuple[str, ...], script: str, *args: str) -> str:
    result = subprocess.run(
        [*prefix, sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.timeout(60)
def test_a_round_played_from_another_host(hosts):
    args = ("blackjack", "--host", HOST_A, "--seed", "3")
    with ServeProcess(*args, prefix=hosts["A"]) as server:
        assert server.first_line.startswith(f"listening on {HOST_A}:")
        outcome, *bye = run_in(
            hosts["B"], PLAY_A_ROUND, HOST_A, str(server.port)
        ).split()
    assert outcome in ("WIN", "LOSE", "PUSH") and bye == ["see", "you", "next", "time"]
    reliability.add("a round from a second host (netns + veth)", "threaded", "played")


@pytest.mark.timeout(60)
def test_the_default_host_cannot_be_reached_from_another_host(hosts):
    with ServeProcess("blackjack", prefix=hosts["A"]) as server:
        assert server.first_line.startswith("listening on 127.0.0.1:")
        port = str(server.port)
        assert run_in(hosts["A"], CONNECT, "127.0.0.1", port) == "connected"
        assert run_in(hosts["B"], CONNECT, HOST_A, port) == "ConnectionRefusedError"
        assert (
            run_in(hosts["B"], CONNECT, "127.0.0.1", port) == "ConnectionRefusedError"
        )
    reliability.add("the default host from a second host", "threaded", "refused")
