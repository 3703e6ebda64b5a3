"""Two hosts: network namespaces joined by a veth pair (as root; required in CI).

Host A (192.0.2.1) runs the Blackjack server; host B (192.0.2.2) plays.
192.0.2.0/24 is TEST-NET-1, reserved for documentation: no real network uses
it, and these hosts exist only inside this machine for the length of a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import reliability
from support import REQUIRED, ServeProcess, require_program

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


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="module")
def hosts():
    """Two namespaces, A and B, and the command prefix to run in each."""
    require_program("ip")
    if os.geteuid() != 0:
        message = "making network namespaces needs root"
        if REQUIRED:
            pytest.fail(message + "; CI runs as root", pytrace=False)
        pytest.skip(message)
    tag = uuid.uuid4().hex[:6]
    a, b = f"labkit-a-{tag}", f"labkit-b-{tag}"
    try:
        ip("netns", "add", a)
        ip("netns", "add", b)
        ip("link", "add", f"lka{tag}", "type", "veth", "peer", "name", f"lkb{tag}")
        for ns, link, address in ((a, f"lka{tag}", HOST_A), (b, f"lkb{tag}", HOST_B)):
            ip("link", "set", link, "netns", ns)
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", link)
            ip("-n", ns, "link", "set", link, "up")
            ip("-n", ns, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as exc:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        message = f"cannot make network namespaces here: {exc.stderr.decode().strip()}"
        if REQUIRED:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield {"A": ("ip", "netns", "exec", a), "B": ("ip", "netns", "exec", b)}
    for ns in (a, b):  # deleting a namespace deletes its end of the veth pair
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


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
