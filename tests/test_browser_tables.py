"""Notebook 11's shared table as a learner meets it: JupyterLab in headless
Chromium, on each path a learner takes.

- Run All (the last cell stops the servers), then play a hand by clicks: the
  first click says the server is gone, Reconnect starts it again and sits
  down, a chip button bets, Stand or Hit while the seat's TURN offers them,
  and the seat shows its result and its chips.
- Run All, then run the cell that starts the server again: one Reconnect
  seats you at the new server, and a hand plays on.
- Run down to the table, play a hand with the mouse as the text invites,
  then run the cells below: they play on from there.

Needs Debian's chromium (skipped without it, required in CI); on failure the
page's screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

pytest.register_assert_rewrite("browser_support")
pytest_plugins = ["browser_support"]

from browser_support import (  # noqa: E402
    START_AGAIN,
    STOPPED,
    cell_index,
    clean_outputs,
    open_notebook,
    run_all_cells,
    run_cells,
)

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=15_000)

TABLES = "11-tables.ipynb"
SERVER_CELL = "08b880dc"  # labkit.serve("tables", seed=5, ...)
TABLE_CELL = "fc7144aa"  # SharedTable(server, name="you", table=3, ...)
# print(table) after a settled hand, as labkit.widgets.tables.seat_text says it
PRINTED_SEAT = re.compile(
    r"seat 1: you, (?P<chips>\d+) chips; hand 1: .*? (WIN|LOSE|PUSH|BLACKJACK) "
    r"(?P<net>[+-]\d+)[^;\n]*(; insurance (?P<insurance>[+-]\d+))?"
)


class Seat:
    """The learner's seat in the page's SharedTable."""

    def __init__(self, page) -> None:
        self.page = page
        self.root = page.locator(".labkit-tbl")
        self.me = self.root.locator('.labkit-tbl-seat[data-me="yes"]')
        self.bet = self.root.locator("button.labkit-tbl-bet").first
        self.hit = self.root.locator("button.labkit-tbl-hit")
        self.stand = self.root.locator("button.labkit-tbl-stand")
        self.message = self.root.locator(".labkit-tbl-message .labkit-message")
        self.reconnect = self.root.locator("button.labkit-tbl-reconnect")
        self.result = self.me.locator(".labkit-tbl-result[data-outcome]").first
        self.chips = self.me.locator(".labkit-tbl-chips")

    def play_a_hand(self, chips: int) -> int:
        """Bet 10 with ``chips`` in front of you, stand on the first TURN;
        the hand's net, once the seat shows it and its chips."""
        expect(self.chips).to_have_attribute("data-chips", str(chips))
        self.bet.click()  # alone at the table: the hand is dealt at once
        expect(self.bet).to_be_disabled()
        dealt = self.root.locator(".labkit-tbl-dealer .labkit-card").first
        expect(dealt).to_be_visible()
        # Stand on the first TURN (or the hand ended at once: a blackjack).
        self.page.wait_for_function(STAND_OR_SETTLED_JS, timeout=15_000)
        if self.stand.is_enabled():
            expect(self.hit).to_be_enabled()  # the TURN lists HIT and STAND
            self.stand.click()
        expect(self.result).to_be_visible()
        assert self.result.get_attribute("data-outcome") in (
            "WIN",
            "LOSE",
            "PUSH",
            "BLACKJACK",
        )
        net = int(self.result.get_attribute("data-net"))
        expect(self.chips).to_have_attribute("data-chips", str(chips + net))
        expect(self.bet).to_be_enabled()  # bets open again for the next hand
        return net


STAND_OR_SETTLED_JS = """() => {
    const t = document.querySelector('.labkit-tbl');
    return !t.querySelector('button.labkit-tbl-stand').disabled
        || t.querySelector('.labkit-tbl-result[data-outcome]') !== null;
}"""


def no_errors(page) -> str:
    """The text of the page's outputs, checked for stderr and tracebacks."""
    shown = clean_outputs(page)
    assert "Traceback" not in shown
    return shown


@pytest.mark.timeout(240)
def test_run_all_then_play_a_hand_by_clicks(page, jupyterlab):
    open_notebook(page, jupyterlab, TABLES)
    run_all_cells(page, timeout=120)
    assert STOPPED in no_errors(page)

    seat = Seat(page)
    expect(seat.root).to_have_count(1)
    # The servers are stopped: the table says so, with one step that works.
    expect(seat.message).to_contain_text(START_AGAIN)
    for name in ("bet", "hit", "stand", "double", "split", "insure"):
        expect(seat.root.locator(f"button.labkit-tbl-{name}").first).to_be_disabled()
    seat.reconnect.click()
    expect(seat.message).to_have_count(0)
    expect(seat.me).to_have_attribute("data-seat", "1")

    expect(seat.bet).to_be_enabled()
    # Bets are open: the countdown runs in the page, with no redraw from the
    # kernel (an animated CSS integer, shown as "N s left").
    countdown = seat.root.locator(".labkit-tbl-status .labkit-tbl-countdown")
    start = int(countdown.get_attribute("data-seconds"))
    page.wait_for_function(
        f"""() => {{
            const c = document.querySelector('.labkit-tbl-countdown');
            const left = getComputedStyle(c).getPropertyValue('--labkit-left');
            return parseInt(left) > 0 && parseInt(left) < {start} - 1;
        }}""",
        timeout=5_000,
    )
    seat.play_a_hand(chips=1000)

    # Leave, then Watch: the seat empties and the buttons follow the lobby.
    status = seat.root.locator(".labkit-tbl-status")
    seat.root.locator("button.labkit-tbl-leave").click()
    expect(status).to_contain_text("In the lobby")
    expect(seat.me).to_have_count(0)
    seat.root.locator("button.labkit-tbl-watch").click()
    expect(status).to_contain_text("(watching)")
    expect(seat.bet).to_be_disabled()
    no_errors(page)


@pytest.mark.timeout(240)
def test_run_all_then_rerun_the_server_cell_and_play_on(page, jupyterlab):
    open_notebook(page, jupyterlab, TABLES)
    run_all_cells(page, timeout=120)
    server_cell = cell_index(TABLES, SERVER_CELL)
    run_cells(page, server_cell, server_cell)

    # The table's server stopped and its cell started a new one: the table
    # still names the one step, Reconnect, which finds the new server.
    seat = Seat(page)
    expect(seat.message).to_contain_text("click Reconnect", ignore_case=True)
    expect(seat.bet).to_be_disabled()
    seat.reconnect.click()
    expect(seat.message).to_have_count(0)
    expect(seat.me).to_have_attribute("data-seat", "1")
    seat.play_a_hand(chips=1000)  # a new server: a new stack
    no_errors(page)


@pytest.mark.timeout(240)
def test_click_as_the_text_says_then_run_the_cells_below(page, jupyterlab):
    table_cell = cell_index(TABLES, TABLE_CELL)
    open_notebook(page, jupyterlab, TABLES)
    run_cells(page, 0, table_cell, timeout=120)

    seat = Seat(page)
    by_mouse = seat.play_a_hand(chips=1000)

    # The next cell plays one more hand by code, from where the mouse left
    # it, and prints the table: one hand more, its net in the chips.
    run_cells(page, table_cell + 1, table_cell + 1, timeout=60)
    printed = PRINTED_SEAT.search(no_errors(page))
    assert printed, "the cell did not print the seat after its hand"
    assert "Table 3: bets are open. Click a chip to bet." in no_errors(page)
    chips, by_code = int(printed["chips"]), int(printed["net"])
    by_code += int(printed["insurance"] or 0)  # an ace up: the cell insures
    assert chips == 1000 + by_mouse + by_code
    expect(seat.chips).to_have_attribute("data-chips", str(chips))
    run_cells(page, table_cell + 2, timeout=120)
    assert STOPPED in no_errors(page)
