"""Seat tokens on disk (labkit.tables.seats): a kernel restarted on a class's
server takes its seat and chips back. Real servers over real sockets; the
token file is a scratch one (LABKIT_SEATS), never the user's."""

from __future__ import annotations

import stat

import pytest

import labkit
from labkit.tables import seats
from labkit.widgets.tables import SharedTable

pytestmark = pytest.mark.timeout(60)
SLOW = {"bet_seconds": 30, "turn_seconds": 30}


@pytest.fixture(autouse=True)
def seats_file(tmp_path, monkeypatch):
    path = tmp_path / "seats.json"
    monkeypatch.setenv("LABKIT_SEATS", str(path))
    return path


def test_remember_recall_forget(seats_file):
    where = ("10.0.0.5", 7000)
    assert seats.recall(where, 1, "ann") is None  # no file yet
    seats.remember(where, 1, "ann", "tok-a")
    seats.remember(where, 2, "ann", "tok-b")
    assert seats.recall(where, 1, "ann") == "tok-a"
    assert seats.recall(where, 2, "ann") == "tok-b"
    assert seats.recall(where, 1, "bob") is None
    assert seats.recall(("10.0.0.5", 7001), 1, "ann") is None
    assert stat.S_IMODE(seats_file.stat().st_mode) == 0o600, "tokens are private"
    seats.forget(where, 1, "ann")
    assert seats.recall(where, 1, "ann") is None
    assert seats.recall(where, 2, "ann") == "tok-b"


def test_nothing_is_kept_outside_a_hub_users_server(tmp_path, monkeypatch):
    monkeypatch.delenv("LABKIT_SEATS")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    seats.remember(("h", 1), 1, "ann", "tok")
    assert seats.recall(("h", 1), 1, "ann") is None
    assert not (tmp_path / ".labkit").exists(), "a shared home keeps no tokens"
    monkeypatch.setenv("JUPYTERHUB_USER", "ann")  # a learner's home on a hub
    seats.remember(("h", 1), 1, "ann", "tok")
    assert seats.recall(("h", 1), 1, "ann") == "tok"
    assert (tmp_path / ".labkit" / "seats.json").exists()


def test_the_file_keeps_the_newest_entries_and_survives_garbage(seats_file):
    for n in range(seats.KEEP + 5):
        seats.remember(("h", n), 1, "ann", f"t{n}")
    assert seats.recall(("h", 0), 1, "ann") is None, "the oldest go first"
    assert seats.recall(("h", seats.KEEP + 4), 1, "ann") == f"t{seats.KEEP + 4}"
    seats_file.write_text("{half a fi")
    assert seats.recall(("h", 1), 1, "ann") is None
    seats.remember(("h", 1), 1, "ann", "fresh")  # a broken file is replaced
    assert seats.recall(("h", 1), 1, "ann") == "fresh"


def play_one_hand(table: SharedTable) -> int:
    """Bet 10 and stand (no insurance): the chips after the settlement."""
    table.bet_buttons[10].click()
    while True:
        state = table.client.wait_for(
            lambda s: "STAND" in s.my_actions or s.hands_settled >= 1
        )
        if state.hands_settled >= 1:
            break
        table.stand_button.click()
        assert table.message == "", table.message
    state = table.client.wait_for(lambda s: s.hands_settled >= 1 and s.betting)
    return state.me.chips


def test_a_new_widget_after_the_old_connection_died_takes_the_seat_back():
    server = labkit.make_server("tables", "threaded", seed=4, **SLOW).start()
    try:
        first = SharedTable(server.address, name="ann", timeout=10)
        seat, token = first.state.seat, first.state.token
        chips = play_one_hand(first)
        assert chips == 990, "seed 4: the dealer has blackjack, the bet of 10 is lost"
        # A restarted kernel: the connection ends without LEAVE, and the
        # widget that knew the token is gone with its kernel.
        first.client.close()
        second = SharedTable(server.address, name="ann", timeout=10)
        try:
            state = second.state
            assert second.connected, second.message
            assert (state.seat, state.token, state.me.chips) == (seat, token, chips)
            assert "JOIN 1 " + token in [
                x for who, x in second.transcript if who == "C"
            ]
        finally:
            second.close()
            first.close()
    finally:
        assert server.stop()


def test_a_token_the_server_does_not_know_is_dropped_and_a_seat_taken_afresh():
    server = labkit.make_server("tables", "threaded", seed=3, **SLOW).start()
    where = server.address
    try:
        seats.remember(where, 1, "ann", "not-a-token-of-this-server")
        table = SharedTable(where, name="ann", timeout=10)
        try:
            assert table.connected, table.message
            assert table.state.seat == 1 and table.state.me.chips == 1000
            assert seats.recall(where, 1, "ann") == table.state.token
        finally:
            table.close()
    finally:
        assert server.stop()


def test_a_server_in_the_kernel_writes_no_file(seats_file):
    server = labkit.make_server("tables", "threaded", seed=3, **SLOW).start()
    try:
        table = SharedTable(server, name="ann", timeout=10)
        try:
            assert table.connected, table.message
        finally:
            table.close()
    finally:
        assert server.stop()
    assert not seats_file.exists(), "a server that dies with the kernel needs no file"
