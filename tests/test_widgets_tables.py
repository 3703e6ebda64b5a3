"""SharedTable, headless: clicks from Python (``Button.click()``) against a
real tables server over real sockets, with other players on TableClients.

The buttons must follow the protocol: chips while bets are open for this
player, and Hit, Stand, Double, Split, Insure exactly as the last TURN for
this seat lists them. Lines arrive on the client's reader thread, so each
check waits for the state it needs (bounded), never sleeps.
"""

from __future__ import annotations

import re
import threading

import pytest
from support import wait_until

import labkit
from labkit.tables.client import TableClient
from labkit.tables.strategy import play
from labkit.tables.view import TableState
from labkit.widgets.tables import (
    ACTIONS,
    SharedTable,
    countdown_html,
    seconds_left,
)

pytestmark = pytest.mark.timeout(60)
SLOW = {"bet_seconds": 30, "turn_seconds": 30}
COUNTDOWN = re.compile(r'class="labkit-tbl-countdown" data-seconds="(\d+)"')
SEAT = re.compile(r'class="labkit-tbl-seat" data-seat="(\d)" data-turn="(yes|no)"')


def enabled(table: SharedTable) -> set[str]:
    on = {verb for verb, b in table.action_buttons.items() if not b.disabled}
    if any(not b.disabled for b in table.bet_buttons.values()):
        on.add("BET")
    return on


def last_turn(table: SharedTable) -> list[str]:
    turns = [x for x in table.client.received() if x.startswith("TURN ")]
    return turns[-1].split()


@pytest.fixture
def server():
    # Seed 8: the dealer shows an ace (insurance), seat 1 has 19, seat 2 a pair.
    handle = labkit.make_server("tables", "threaded", seed=8, **SLOW).start()
    yield handle
    assert handle.stop()


def test_the_buttons_follow_bets_and_turns_and_a_hand_is_played_by_clicks(server):
    table = SharedTable(server.address, name="ann", timeout=10)
    bob = TableClient(server.address, name="bob", timeout=10)
    try:
        assert table.connected and table.state.seat == 1
        assert enabled(table) == {"BET"}
        assert "labkit-tbl" in table.widget._dom_classes
        for verb in ACTIONS:
            css = f"labkit-tbl-{verb.lower()}"
            assert css in table.action_buttons[verb]._dom_classes
        bob.join(1)
        assert wait_until(lambda: "bob" in table.seats_html.value)
        assert SEAT.findall(table.seats_html.value) == [("1", "no"), ("2", "no")]
        other = threading.Thread(target=play, args=(bob, 1), daemon=True)
        other.start()
        table.bet_buttons[25].click()
        assert table.message == "" and table.state.seats[1].bet == 25
        assert wait_until(lambda: not enabled(table) or "BET" not in enabled(table))
        moves, insured = 0, False
        while table.state.hands_settled < 1:
            state = table.client.wait_for(
                lambda s: s.my_actions or s.hands_settled >= 1, 30
            )
            if state.hands_settled >= 1:
                break
            assert wait_until(lambda: enabled(table) == set(table.actions))
            if state.turn == (0, 0):
                assert enabled(table) == {"INSURE"}
                table.insure_button.click()
                insured = True
                continue
            words = last_turn(table)
            assert words[1] == f"1:{state.turn[1]}"
            assert enabled(table) == set(words[3:])  # exactly what TURN lists
            hand = state.me.hands[state.turn[1]]
            button = table.hit_button if hand.total < 14 else table.stand_button
            button.click()
            assert table.message == "", table.message
            moves += 1
        other.join(30)
        assert moves >= 1 and insured
        state = table.client.wait_for(lambda s: s.hands_settled >= 1)
        nets = sum(h.result[1] for h in state.seats[1].hands.values())
        nets += state.seats[1].insurance or 0
        assert state.seats[1].chips == 1000 + nets
        chips = f'data-chips="{1000 + nets}"'
        assert wait_until(lambda: chips in table.seats_html.value)
        assert 'data-outcome="WIN"' in table.seats_html.value  # seed 8: a dealer bust
        insurance = state.seats[1].insurance
        assert insurance == -12  # half of 25, lost: the dealer had no blackjack
        assert f'labkit-tbl-insurance" data-net="{insurance}"' in table.seats_html.value
        assert "; insurance -12" in str(table)
        assert wait_until(lambda: enabled(table) == {"BET"})  # the next round
        assert "seat 2: bob" in str(table)
    finally:
        table.close()
        bob.close()


def test_a_disabled_button_clicked_from_a_cell_sends_nothing(server):
    table = SharedTable(server.address, timeout=10)
    try:
        sent = len(table.transcript)
        table.hit_button.click()
        assert table.message == "Hit is not possible now."
        assert len(table.transcript) == sent
    finally:
        table.close()


def test_a_watcher_sees_the_hand_and_has_no_buttons(server):
    watcher = SharedTable(server.address, watch=True, timeout=10)
    ann = TableClient(server.address, name="ann", timeout=10)
    try:
        assert watcher.state.watching and enabled(watcher) == set()
        ann.join(1)
        ann.bet(10)
        assert wait_until(lambda: 'data-seat="1"' in watcher.seats_html.value)
        play(ann, 1)
        # Both at the same line: the BETTING after the hand.
        state = ann.wait_for(lambda s: s.hands_settled >= 1 and s.betting)
        seen = watcher.client.wait_for(lambda s: s.hands_settled >= 1 and s.betting)
        assert seen.seats == state.seats and seen.dealer == state.dealer
        assert enabled(watcher) == set()
        assert "(watching)" in watcher.status
    finally:
        watcher.close()
        ann.close()


def test_a_stopped_server_is_said_in_words_and_reconnect_brings_a_seat():
    server = labkit.serve("tables", seed=4, **SLOW)
    table = SharedTable(server, name="ann", timeout=10)
    try:
        assert table.state.seat == 1
        assert server.stop()
        assert wait_until(lambda: not table.connected)
        assert wait_until(lambda: "Reconnect" in table.message), table.message
        assert enabled(table) == set()
        table.reconnect_button.click()  # starts the stopped server again
        assert table.connected and table.state.seat == 1, table.message
        assert enabled(table) == {"BET"}
    finally:
        table.close()
        labkit.background.stop_all()


def test_reconnect_takes_the_same_seat_back_with_its_token(server):
    table = SharedTable(server.address, name="ann", timeout=10)
    bob = TableClient(server.address, name="bob", timeout=10)
    try:
        token = table.state.token
        bob.join(1)
        table.reconnect_button.click()  # a new connection: JOIN 1 <token>
        assert table.connected, table.message
        state = table.state
        assert (state.seat, state.name, state.token) == (1, "ann", token)
        assert "ann" in state.seats[1].name and 2 in state.seats
        with TableClient(server.address, name="carl", timeout=10) as carl:
            assert carl.join(1).seat == 3  # seat 1 never emptied
        assert not any(x.startswith("EMPTY 1") for x in bob.received())
        assert enabled(table) == {"BET"}
    finally:
        table.close()
        bob.close()


def places(table: SharedTable) -> set[str]:
    buttons = {
        "LEAVE": table.leave_button,
        "JOIN": table.join_button,
        "WATCH": table.watch_button,
    }
    return {name for name, b in buttons.items() if not b.disabled}


def test_leave_then_watch_then_leave_then_sit_down_as_the_protocol_does(server):
    table = SharedTable(server.address, name="ann", timeout=10)
    bob = TableClient(server.address, name="bob", timeout=10)
    try:
        bob.watch(1)
        assert places(table) == {"LEAVE"}
        table.leave_button.click()
        assert table.message == "" and table.state.table is None
        assert table.status == "In the lobby: Sit down or Watch."
        assert places(table) == {"JOIN", "WATCH"} and enabled(table) == set()
        assert bob.wait_for(lambda s: 1 not in s.seats), "bob saw seat 1 empty"
        table.watch_button.click()
        assert table.state.watching and enabled(table) == set()
        assert places(table) == {"LEAVE"}
        table.join_button.click()  # disabled at a table: sends nothing
        assert table.message == "Sit down is not possible now."
        table.leave_button.click()
        table.join_button.click()
        assert table.state.seat == 1 and not table.watching, table.message
        assert enabled(table) == {"BET"}
        assert bob.wait_for(lambda s: 1 in s.seats).seats[1].name == "ann"
        sent = [line for who, line in table.transcript if who == "C"]
        assert sent[-4:] == ["LEAVE", "WATCH 1", "LEAVE", "JOIN 1"], sent
    finally:
        table.close()
        bob.close()


def test_the_countdown_counts_from_the_seconds_left_and_only_while_timed(server):
    later = TableState(deadline=100.2)
    assert seconds_left(later, now=80.0) == 21  # rounded up, as the protocol's
    assert seconds_left(TableState(), now=80.0) is None
    assert 'style="--labkit-from: 21; animation-duration: 21s"' in countdown_html(21)
    assert countdown_html(None) == countdown_html(0) == ""
    table = SharedTable(server.address, name="ann", timeout=10)
    try:
        shown = COUNTDOWN.search(table.status_html.value)  # bets are open
        assert shown and 28 <= int(shown.group(1)) <= 30, table.status_html.value
        table.leave_button.click()  # in the lobby nothing is timed
        assert COUNTDOWN.search(table.status_html.value) is None
    finally:
        table.close()
