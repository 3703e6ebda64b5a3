"""The tables service (Blackjack version 2) over real sockets, on every transport.

The table's rules are tests/test_tables_table.py's; here it is the serving
that is on trial: the lobby's answers, hands played to settlement with
every line checked by labkit.tables.check, one order of table lines for
every connection at a table, a client that never reads costing the others
nothing, a seat won back with its token, and the command line's options.
Short bet and turn times keep hands fast; every wait is on a line, bounded
by the socket's timeout, never a sleep.
"""

from __future__ import annotations

import select
import socket
import threading
import time

import pytest
from support import ServeProcess, wait_until

from labkit import Limits
from labkit.blackjack.game import Card, hand_total
from labkit.tables.check import TableChecker
from labkit.tables.rules import Rules, is_soft
from labkit.transports import TRANSPORTS

pytestmark = pytest.mark.timeout(60)
CONCURRENT = [t for t in TRANSPORTS if t != "iterative"]
FAST = {"bet_seconds": 2, "turn_seconds": 2}
RULES = Rules(bet_seconds=2, turn_seconds=2)
TABLE_LINES = (
    "SEAT EMPTY BETTING BET SHUFFLE HAND TURN ACTION PAYOUT INSURANCE CHIPS".split()
)


class Client:
    """One connection that keeps every line it reads, in order."""

    def __init__(self, server, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(server.address[:2], timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.lines: list[str] = []
        self.greeting = self.read()
        assert self.greeting.startswith("WELCOME labkit-blackjack/2 "), self.greeting

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode() + b"\r\n")

    def read(self) -> str:
        raw = self.file.readline()
        assert raw, f"the server closed the connection after {self.lines[-5:]}"
        line = raw.decode("ascii").rstrip("\r\n")
        self.lines.append(line)
        return line

    def until(self, start: str) -> str:
        """Read up to and including the first line that starts with ``start``."""
        while not (line := self.read()).startswith(start):
            pass
        return line

    def ask(self, command: str) -> str:
        self.send(command)
        return self.read()

    def join(self, command: str = "JOIN 1") -> list[str]:
        """SEATED (or WATCHING) and the state; the answer's words."""
        answer = self.ask(command).split()
        assert answer[0] in ("SEATED", "WATCHING"), answer
        assert self.read() == "STATE BEGIN"
        self.until("STATE END")
        return answer

    def after_state(self) -> list[str]:
        """The table lines after this connection's state, in order."""
        end = self.lines.index("STATE END")
        return [x for x in self.lines[end + 1 :] if x.split()[0] in TABLE_LINES]

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def check(lines: list[str], rules: Rules = RULES) -> None:
    checker = TableChecker(rules)
    for line in lines:
        checker.received(line)


def play(client: Client, seat: int, hands: int, bet: int = 10) -> None:
    """Bet on every BETTING, hit below 12, stand otherwise, insure on offer;
    stop at the BETTING after seat 1's ``hands``-th settled hand."""
    totals: dict[str, int] = {}
    settled = 0
    state = client.lines[client.lines.index("STATE BEGIN") :]
    if seat and any(x.startswith("BETTING") for x in state):
        client.send(f"BET {bet}")  # sat down while bets are open
    line = client.lines[-1]
    while True:
        words = line.split()
        if words[:1] == ["BETTING"]:
            if settled >= hands:
                return
            if seat:
                client.send(f"BET {bet}")
        elif words[:1] == ["HAND"] and words[1] != "DEALER":
            totals[words[1]] = int(words[3])
        elif words[:1] == ["TURN"] and words[1] == "0:0" and seat:
            client.send("INSURE")
        elif words[:1] == ["TURN"] and seat and words[1].startswith(f"{seat}:"):
            client.send("HIT" if totals.get(words[1], 21) < 12 else "STAND")
        elif words[:2] == ["PAYOUT", "1:1"]:
            settled += 1
        line = client.read()


# -- the lobby --------------------------------------------------------------


@pytest.mark.timeout(30)
def test_the_lobby_answers_and_its_errors(start):
    server = start("tables", "threaded", tables=2, **FAST)
    ann, bob = Client(server), Client(server)
    assert ann.ask("TABLES") == "TABLES 2"
    assert [ann.read() for _ in range(2)] == [
        "TABLE 1 0 7 10 500",
        "TABLE 2 0 7 10 500",
    ]
    assert ann.ask("NAME ann") == "NAME ann"
    assert bob.ask("NAME ann").startswith("ERROR NAME-TAKEN ")
    assert bob.ask("NAME bad name!").startswith("ERROR BAD-NAME ")
    assert bob.ask("NAME a_very_long_name_x").startswith("ERROR BAD-NAME ")
    assert bob.ask("JOIN 3").startswith("ERROR NO-SUCH-TABLE ")
    assert bob.ask("JOIN one").startswith("ERROR NO-SUCH-TABLE ")
    assert bob.ask("BET 10").startswith("ERROR NOT-NOW ")
    assert bob.ask("CHIPS") == "CHIPS 0 1000"
    assert bob.ask("REBUY") == (
        "ERROR NOT-NOW REBUY is for a player below 10 chips with no hand in play"
    )
    assert bob.ask("JOIN 1 0123456789abcdef") == (
        "ERROR BAD-TOKEN no seat at this table waits for that token"
    )
    assert ann.join()[:4] == ["SEATED", "1", "1", "1000"]
    # A seated player gets table lines too (BETTING): read to the answer.
    ann.send("NAME anne")
    assert ann.until("ERROR").startswith("ERROR NOT-NOW ")
    ann.send("JOIN 2")
    assert ann.until("ERROR") == "ERROR NOT-NOW you are at table 1; LEAVE first"
    assert bob.join("WATCH 1") == ["WATCHING", "1"]
    bob.send("BET 10")
    assert bob.until("ERROR") == "ERROR NOT-NOW watchers cannot play; LEAVE, then JOIN"
    bob.send("LEAVE")
    assert bob.until("LEFT") == "LEFT 1"
    assert bob.ask("TABLES") == "TABLES 2"
    assert [bob.read() for _ in range(2)] == [
        "TABLE 1 1 7 10 500",
        "TABLE 2 0 7 10 500",
    ]
    ann.send("LEAVE")
    assert ann.until("LEFT") == "LEFT 1"
    assert ann.ask("QUIT") == "BYE see you next time"
    others = [Client(server) for _ in range(7)]
    for seat, other in enumerate(others, 1):
        assert other.join()[:3] == ["SEATED", "1", str(seat)]
    assert bob.ask("JOIN 1") == "ERROR TABLE-FULL table 1 has no free seat"
    for client in [ann, bob, *others]:
        client.close()


# -- hands over the wire --------------------------------------------------------


@pytest.mark.parametrize("transport", CONCURRENT)
def test_a_player_plays_hands_to_settlement_and_every_line_checks(
    transport, start, no_leaks
):
    server = start("tables", transport, seed=7, **FAST)
    ann = Client(server)
    ann.join()
    began = time.monotonic()
    play(ann, seat=1, hands=3)
    took = time.monotonic() - began
    check(ann.lines)
    assert sum(x.startswith("PAYOUT 1:") for x in ann.lines) >= 3
    assert took < 10, f"3 hands took {took:.1f} s"
    ann.close()
    assert server.stop(), "the server and its clock thread stop within 2 s"


@pytest.mark.parametrize("transport", CONCURRENT)
def test_every_connection_at_a_table_gets_the_same_lines_in_one_order(transport, start):
    server = start("tables", transport, **FAST)
    watcher = Client(server)
    watcher.join("WATCH 1")
    players = [Client(server) for _ in range(3)]
    for seat, player in enumerate(players, 1):
        assert player.join()[:3] == ["SEATED", "1", str(seat)]
    threads = [
        threading.Thread(target=play, args=(client, seat, 3))
        for seat, client in enumerate([watcher, *players])
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert not any(thread.is_alive() for thread in threads)
    took = time.monotonic() - began
    seen = watcher.after_state()
    for player in players:
        mine = player.after_state()
        assert mine == seen[len(seen) - len(mine) :], "one order for everyone"
        check(player.lines)
    check(watcher.lines)
    assert sum(x.startswith("PAYOUT 1:1") for x in seen) == 3
    assert {x.split()[1] for x in seen if x.startswith("PAYOUT")} >= {"2:1", "3:1"}
    assert took < 20, f"3 hands of 3 players took {took:.1f} s"
    for client in [watcher, *players]:
        client.close()


def flood(sock: socket.socket, dropped: threading.Event, stop: threading.Event):
    """Send TABLES and read nothing, until told to stop or dropped."""
    sock.setblocking(False)
    chunk = b"TABLES\r\n" * 64
    while not stop.is_set():
        select.select([], [sock], [], 0.05)
        try:
            sock.send(chunk)
        except BlockingIOError:
            continue
        except OSError:  # reset or broken pipe: dropped
            dropped.set()
            return


@pytest.mark.parametrize("transport", CONCURRENT)
def test_a_watcher_that_never_reads_is_dropped_and_delays_no_one(transport, start):
    server = start("tables", transport, limits=Limits(max_pending=512), **FAST)
    silent = Client(server)
    silent.join("WATCH 1")
    players = [Client(server) for _ in range(2)]
    for player in players:
        player.join()
    # First the silent watcher's buffers fill up (answers it never reads),
    # until the server stops reading from it, or drops it already.
    dropped, stop = threading.Event(), threading.Event()
    flooder = threading.Thread(target=flood, args=(silent.sock, dropped, stop))
    flooder.start()
    try:
        assert wait_until(
            lambda: dropped.is_set() or any(c.paused for c in server.connections()),
            timeout=30,
        ), "a client that reads nothing fills its buffers"
    finally:
        stop.set()
        flooder.join(5)
    # Then the table plays on: its lines to the watcher wait, past the
    # bound the watcher is dropped, and the players wait for no one.
    threads = [
        threading.Thread(target=play, args=(client, seat, 4))
        for seat, client in enumerate(players, 1)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    took = time.monotonic() - began
    assert not any(thread.is_alive() for thread in threads)
    assert took < 8, f"4 hands took {took:.1f} s beside a silent watcher"
    assert wait_until(lambda: any("dropped" in x for x in server.log))
    assert len(server.connections()) == 2
    for player in players:
        check(player.lines)
        player.close()
    silent.close()


@pytest.mark.parametrize("transport", CONCURRENT)
def test_the_token_gives_the_seat_and_its_chips_back(transport, start):
    server = start("tables", transport, seed=3, **FAST)
    ann = Client(server)
    assert ann.ask("NAME ann") == "NAME ann"
    _, _, seat, chips, token = ann.join()
    play(ann, seat=1, hands=1, bet=100)
    chips = next(x for x in reversed(ann.lines) if x.startswith(("CHIPS 1", "SEAT 1")))
    chips = chips.split()[-1]
    ann.close()  # during betting: the seat waits a minute for the token
    back = Client(server)
    assert back.ask("JOIN 1 nottoken").startswith("ERROR BAD-TOKEN ")
    deadline = time.monotonic() + 5
    while (answer := back.ask(f"JOIN 1 {token}")).startswith("ERROR BAD-TOKEN"):
        # until the server has seen the close: each try is answered at once
        assert time.monotonic() < deadline, "the token never worked"
    assert answer == f"SEATED 1 {seat} {chips} {token}"
    assert back.read() == "STATE BEGIN"
    assert back.read() == f"SEAT 1 ann {chips}"
    back.until("STATE END")
    back.send("CHIPS")
    assert back.until("CHIPS") == f"CHIPS 1 {chips}"
    back.close()


@pytest.mark.parametrize("transport", CONCURRENT)
def test_a_seat_empties_when_its_token_is_not_used_in_time(transport, start):
    server = start("tables", transport, reconnect_seconds=1, **FAST)
    watcher = Client(server)
    watcher.join("WATCH 1")
    ann = Client(server)
    token = ann.join()[-1]
    watcher.until("SEAT 1 ")
    ann.close()  # during betting, without a bet: nothing is in play
    assert watcher.until("EMPTY ") == "EMPTY 1", "the seat empties after 1 s"
    back = Client(server)
    assert back.ask(f"JOIN 1 {token}").startswith("ERROR BAD-TOKEN ")
    for client in (watcher, back):
        client.close()


@pytest.mark.parametrize("transport", CONCURRENT)
def test_the_idle_limit_spares_players_and_watchers_only(transport, start):
    server = start("tables", transport, limits=Limits(idle_timeout=0.5), bet_seconds=30)
    player, watcher = Client(server), Client(server)
    player.join()
    watcher.join("WATCH 1")
    lobby = Client(server)  # connected last: its idle limit passes last
    assert lobby.read().startswith("ERROR IDLE-TIMEOUT ")
    assert lobby.file.readline() == b"", "the idle lobby connection is closed"
    for client, answer in [(player, "CHIPS 1 1000"), (watcher, "CHIPS 0 1000")]:
        client.send("CHIPS")
        assert client.until("CHIPS") == answer, "players and watchers stay"
    for client in (player, watcher, lobby):
        client.close()


def dealer_hits_soft_17(lines: list[str]) -> bool | None:
    """True if the dealer drew on a soft 17 in ``lines``, False if the dealer
    stood on one, None if no dealer reached a soft 17."""
    seen = None
    dealer: list[str] = []
    for line in lines:
        if line.startswith("HAND DEALER ") and "?" not in line:
            words = line.split()[3:]
            if len(words) > len(dealer) and dealer and soft_17(dealer):
                return True  # a card after a soft 17
            dealer = words
        elif line.startswith("PAYOUT") and dealer:
            if soft_17(dealer):
                seen = False  # settled on a soft 17
            dealer = []
    return seen


def soft_17(cards: list[str]) -> bool:
    parsed = [Card.parse(card) for card in cards]
    return hand_total(parsed) == 17 and is_soft(parsed)


@pytest.mark.parametrize(("h17", "decks", "seed"), [(True, 1, 24), (False, 6, 12)])
def test_the_decks_and_the_dealers_soft_17_rule_reach_the_wire(h17, decks, seed, start):
    """Hands (the player stands) until the dealer meets a soft 17: under H17
    they draw, under S17 they stand; the shoe has the decks asked for. The
    seeds bring a soft 17 within a few hands."""
    rules = Rules(decks=decks, h17=h17, **FAST)
    server = start("tables", decks=decks, h17=h17, seed=seed, **FAST)
    ann = Client(server)
    ann.join()
    shown = None
    for _ in range(200):
        ann.send("BET 10")
        while not (line := ann.read()).startswith("PAYOUT 1:1"):
            if line.startswith("TURN 0:0"):
                ann.send("INSURE")  # closes the insurance window at once
            elif line.startswith("TURN 1:"):
                ann.send("STAND")
        ann.until("BETTING")
        if (shown := dealer_hits_soft_17(ann.lines)) is not None:
            break
    assert shown is h17, f"h17={h17}: the dealer {'stood' if h17 else 'drew'}"
    shuffles = [x for x in ann.lines if x.startswith("SHUFFLE")]
    assert set(shuffles) == {f"SHUFFLE {decks}"}, shuffles
    check(ann.lines, rules)
    ann.close()


def test_on_the_iterative_transport_the_clocks_lines_reach_the_one_player(start):
    """One connection at a time; the clock's lines still reach it while its
    thread waits in recv."""
    server = start("tables", "iterative", seed=7, bet_seconds=1, turn_seconds=1)
    ann = Client(server)
    ann.join()
    assert ann.until("BETTING") == "BETTING 1"
    ann.send("BET 10")
    while not (line := ann.read()).startswith(("PAYOUT 1:1", "ACTION 1:1")):
        pass
    assert line == "ACTION 1:1 STAND TIMEOUT", "the clock stood for the player"
    ann.until("BETTING")
    check(ann.lines, Rules(bet_seconds=1, turn_seconds=1))
    ann.close()


# -- the command line ------------------------------------------------------------


@pytest.mark.timeout(30)
def test_the_command_line_serves_tables_with_its_options():
    with ServeProcess(
        "tables",
        "--tables",
        "2",
        "--decks",
        "1",
        "--h17",
        "--bet-seconds",
        "1",
        "--turn-seconds",
        "1",
        "--seed",
        "5",
        "--quiet",
    ) as served:
        with socket.create_connection((served.host, served.port), timeout=10) as sock:
            reader = sock.makefile("rb")
            assert reader.readline().startswith(b"WELCOME labkit-blackjack/2 ")
            sock.sendall(b"TABLES\r\nJOIN 1\r\n")
            got = [reader.readline().decode().strip() for _ in range(8)]
        assert got[:3] == ["TABLES 2", "TABLE 1 0 7 10 500", "TABLE 2 0 7 10 500"]
        assert got[3].startswith("SEATED 1 1 1000 ")
        assert got[4:7] == ["STATE BEGIN", "SEAT 1 guest1 1000", "STATE END"]
        assert got[7] == "BETTING 1"
        assert served.stop() == 0
