"""TableClient over real sockets: the lobby, a hand to settlement, two players
at one table, a watcher, and the client's view agreeing with its transcript.

Long bet and turn times (betting ends early once everyone has bet) keep the
hands from running out under a loaded machine; every wait is bounded.
"""

from __future__ import annotations

import threading
import time

import pytest

from labkit.errors import ConnectionClosed
from labkit.tables.check import TableChecker
from labkit.tables.client import ServerRefused, TableClient
from labkit.tables.rules import Rules
from labkit.tables.strategy import play
from labkit.tables.view import TableView

pytestmark = pytest.mark.timeout(60)
SLOW = {"bet_seconds": 30, "turn_seconds": 30}
TRANSPORTS = ["threaded", "asyncio"]


def replayed(client: TableClient):
    """The view rebuilt from the client's transcript alone."""
    view = TableView()
    for line in client.received():
        view.received(line)
    return view.state


def checked(client: TableClient) -> None:
    checker = TableChecker(Rules(**SLOW))
    for line in client.received():
        checker.received(line)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_hand_from_join_to_settlement(no_leaks, start, transport):
    server = start("tables", transport, seed=7, **SLOW)
    with TableClient(server.address, name="ann", timeout=10) as ann:
        assert ann.tables()[0] == (1, 0, 7, 10, 500)
        state = ann.join(1)
        assert (state.table, state.seat, state.chips) == (1, 1, 1000)
        assert state.seats[1].name == "ann" and state.betting
        assert state.my_actions == ("BET",)
        assert ann.bet(25).seats[1].bet == 25
        state = play(ann, 1)
        me = state.seats[1]
        nets = sum(hand.result[1] for hand in me.hands.values()) + (me.insurance or 0)
        assert me.chips == 1000 + nets == state.chips
        assert state.dealer is not None and not state.dealer.hidden
        assert ann.received()[-1].startswith("BETTING ")
        checked(ann)
        replay = replayed(ann)
        assert replay.seats == state.seats and replay.dealer == state.dealer
        assert ann.tables()[0] == (1, 1, 7, 10, 500)
    assert server.stop()  # before no_leaks looks: the reader thread is gone too


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_two_players_see_each_others_bets_and_one_order(start, transport):
    server = start("tables", transport, seed=11, **SLOW)
    ann = TableClient(server.address, name="ann", timeout=10)
    bob = TableClient(server.address, name="bob", timeout=10)
    try:
        ann.join(1)
        assert bob.join(1).seat == 2
        ann.wait_for(lambda s: 2 in s.seats)
        ann.bet(10)
        assert bob.wait_for(lambda s: s.seats[1].bet == 10).seats[1].bet == 10
        bob.bet(20)
        assert ann.wait_for(lambda s: s.seats[2].bet == 20).seats[2].bet == 20
        other = threading.Thread(target=play, args=(bob, 1), daemon=True)
        other.start()
        ann_state = play(ann, 1)
        other.join(30)
        assert not other.is_alive()
        bob_state = bob.wait_for(lambda s: s.hands_settled >= 1)
        assert ann_state.seats[2].hands == bob_state.seats[2].hands
        assert ann_state.dealer == bob_state.dealer
        # One order: bob's lines from his STATE END on are in ann's, in order.
        ann_lines, bob_lines = ann.received(), bob.received()
        table = bob_lines[bob_lines.index("STATE END") + 1 :]
        table = [x for x in table if x.split()[0] not in ("ERROR", "NAME")]
        start_at = ann_lines.index(table[0])
        assert ann_lines[start_at : start_at + len(table)] == table
        checked(ann)
        checked(bob)
    finally:
        ann.close()
        bob.close()


def test_refusals_raise_and_change_nothing(start):
    server = start("tables", "threaded", seed=1, **SLOW)
    with (
        TableClient(server.address, name="ann", timeout=10) as ann,
        TableClient(server.address, timeout=10) as bob,
    ):
        with pytest.raises(ServerRefused) as refused:
            bob.name("ann")
        assert refused.value.code == "NAME-TAKEN"
        with pytest.raises(ServerRefused) as refused:
            ann.join(9)
        assert refused.value.code == "NO-SUCH-TABLE"
        ann.join(1)
        with pytest.raises(ServerRefused) as refused:
            ann.bet(5)
        assert refused.value.code == "BAD-BET"
        ann.bet(10)
        with pytest.raises(ServerRefused) as refused:
            ann.bet(10)
        assert refused.value.code == "NOT-NOW"
        assert bob.watch(1).watching
        with pytest.raises(ServerRefused) as refused:
            bob.hit()  # a watcher has no seat: refused before it is sent
        assert refused.value.code == "NOT-NOW"
        play(ann, 1)
        # Both at the same line: the BETTING after the hand.
        state = ann.wait_for(lambda s: s.hands_settled >= 1 and s.betting)
        seen = bob.wait_for(lambda s: s.hands_settled >= 1 and s.betting)
        assert seen.seats == state.seats
        assert bob.state.my_actions == ()
        ann.leave()
        assert ann.state.table is None and ann.chips() == state.chips


def test_observers_see_every_line_and_a_closed_server_ends_the_waits(start):
    server = start("tables", "threaded", seed=2, **SLOW)
    ann = TableClient(server.address, timeout=5)
    seen: list[str] = []
    ann.observe(lambda line, state: seen.append(line))
    ann.join(1)
    # join returns once the observers have seen its answer, the state's end
    assert seen[0].startswith("SEATED 1 1 1000 ") and "STATE END" in seen
    assert server.stop()
    with pytest.raises(ConnectionClosed):
        ann.wait_for(lambda s: s.dealer is not None)
    assert seen[-1] == ""  # the observers hear that the connection ended
    ann.close()
    assert not ann.reader.is_alive()
    with pytest.raises(ConnectionClosed):
        ann.bet(10)


def test_close_frees_the_reader_at_once(start):
    server = start("tables", "threaded", **SLOW)
    ann = TableClient(server.address, timeout=30)
    ann.join(1)
    began = time.monotonic()
    ann.close()  # the reader waits on recv with a 30 s timeout: shutdown wakes it
    assert not ann.reader.is_alive()
    assert time.monotonic() - began < 2, "close() waited for the reader's timeout"
