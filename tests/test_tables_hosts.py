"""One table across four hosts: three players on three hosts, the server on a fourth.

The instructor serves ``tables`` on host S (192.0.2.10) as the README's
command line would, and each of hosts 1, 2 and 3 runs one player, a
program of its own that knows nothing but the address: it sits down,
waits until all three are seated, bets, insures when offered, hits below
12 and stands otherwise, and stops at the next betting round. Their three
transcripts must hold the same table lines in the same order from the
first bet on, and each must pass labkit.tables.check. tests/netns.py makes
the hosts (as root; required in CI, as for test_two_hosts).
"""

from __future__ import annotations

import json
import subprocess
import sys

import netns
import pytest
import reliability
from support import ServeProcess

from labkit.tables.check import TableChecker
from labkit.tables.rules import Rules

SERVER = "192.0.2.10"
PLAYERS = {"P1": "192.0.2.11", "P2": "192.0.2.12", "P3": "192.0.2.13"}
# Bet and turn seconds: betting ends once all three have bet, and reopens
# while no one has, so these bound only a player that is stuck.
SECONDS = 10
TABLE_LINES = (
    "SEAT EMPTY BETTING BET SHUFFLE HAND TURN ACTION PAYOUT INSURANCE CHIPS".split()
)

PLAY_ONE_HAND = """
import json, socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
lines, seats, totals = [], set(), {}
me = betting = bet = dealt = None
def send(text):
    sock.sendall(text.encode() + b"\\r\\n")
send("NAME " + sys.argv[3])
send("JOIN 1")
for raw in sock.makefile("rb"):
    line = raw.decode("ascii").rstrip("\\r\\n")
    lines.append(line)
    words = line.split()
    if words[0] == "SEATED":
        me = words[2]
    elif words[0] == "SEAT":
        seats.add(words[1])
    elif words[0] == "EMPTY":
        seats.discard(words[1])
    elif words[0] == "BETTING":
        if dealt:
            break  # the hand is settled and the next one's bets are open
        betting = True
    elif words[:2] == ["HAND", "DEALER"]:
        dealt = True
    elif words[0] == "HAND" and words[1].startswith(me + ":"):
        totals[words[1]] = int(words[3])
    elif words[:2] == ["TURN", "0:0"]:
        send("INSURE")
    elif words[0] == "TURN" and words[1].startswith(me + ":"):
        send("HIT" if totals[words[1]] < 12 else "STAND")
    elif words[:2] == ["ERROR", "NOT-NOW"] and bet:
        bet = False  # the bet came between two betting rounds: bet again
    if betting and not bet and not dealt and len(seats) == 3:
        send("BET 10")
        bet = True
send("QUIT")
print(json.dumps(lines))
"""


@pytest.fixture(scope="module")
def hosts():
    with netns.hosts({"S": SERVER, **PLAYERS}) as prefixes:
        yield prefixes


def transcript(lines: list[str]) -> list[str]:
    """The table lines from the first bet to the next betting round."""
    start = next(i for i, line in enumerate(lines) if line.startswith("BET "))
    return [x for x in lines[start:] if x.split()[0] in TABLE_LINES]


@pytest.mark.timeout(90)
def test_three_hosts_play_one_hand_at_one_table_on_a_fourth(hosts):
    args = ("tables", "--host", SERVER, "--seed", "11")
    args += ("--bet-seconds", str(SECONDS), "--turn-seconds", str(SECONDS))
    with ServeProcess(*args, prefix=hosts["S"]) as server:
        assert server.first_line.startswith(f"listening on {SERVER}:")
        players = {
            name: subprocess.Popen(
                [*hosts[name], sys.executable, "-c", PLAY_ONE_HAND]
                + [SERVER, str(server.port), name.lower()],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in PLAYERS
        }
        seen = {}
        for name, player in players.items():
            out, err = player.communicate(timeout=60)
            assert player.returncode == 0, f"{name}: {err}"
            seen[name] = json.loads(out)
    seats = sorted(
        next(x for x in lines if x.startswith("SEATED ")).split()[1:3]
        for lines in seen.values()
    )
    assert seats == [["1", "1"], ["1", "2"], ["1", "3"]], seats
    rules = Rules(bet_seconds=SECONDS, turn_seconds=SECONDS)
    for name, lines in seen.items():
        checker = TableChecker(rules)
        for line in lines:
            checker.received(line)
        assert lines[-1].startswith("BETTING"), (name, lines[-5:])
    tables = {name: transcript(lines) for name, lines in seen.items()}
    one = tables["P1"]
    assert all(lines == one for lines in tables.values()), tables
    for seat in ("1", "2", "3"):  # each host's bet, and its hand settled
        assert f"BET {seat} 10" in one, one
        assert any(x.startswith(f"PAYOUT {seat}:1 ") for x in one), one
    reliability.add("one hand at one table from three hosts", "threaded", "played")
