"""Notebook 11's shared table as a learner meets it: JupyterLab in headless
Chromium. Run All (the last cell stops the servers), then play a hand by
clicks: the first click says the server is gone, Reconnect starts it again
and sits down, a chip button bets, Stand or Hit while the seat's TURN
offers them, and the seat shows its result and its chips.

Needs Debian's chromium (skipped without it, required in CI); on failure the
page's screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("browser_support")
pytest_plugins = ["browser_support"]

from browser_support import (  # noqa: E402
    open_notebook,
    output_texts,
    run_all_cells,
    stderr_outputs,
)

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=15_000)

TABLES = "11-tables.ipynb"
STOPPED = "every server stopped; no labkit thread left"
START_AGAIN = "Click Reconnect to start the server again and connect."

# The seat is settled when its hands show results and the chips moved by
# their nets (the view applies them with the last PAYOUT).
SETTLED_JS = """() => {
    const seat = document.querySelector('.labkit-tbl .labkit-tbl-seat[data-me="yes"]');
    if (!seat) return false;
    const results = seat.querySelectorAll('.labkit-tbl-result[data-outcome]');
    return results.length > 0;
}"""


@pytest.mark.timeout(240)
def test_run_all_then_play_a_hand_by_clicks(page, jupyterlab):
    open_notebook(page, jupyterlab, TABLES)
    run_all_cells(page, timeout=120)
    errors = stderr_outputs(page)
    assert not errors, "the notebook wrote to stderr:\n" + "\n---\n".join(errors)
    assert STOPPED in "\n".join(output_texts(page))

    root = page.locator(".labkit-tbl")
    expect(root).to_have_count(1)
    bet = root.locator("button.labkit-tbl-bet").first
    stand = root.locator("button.labkit-tbl-stand")
    hit = root.locator("button.labkit-tbl-hit")
    message = root.locator(".labkit-tbl-message .labkit-message")
    reconnect = root.locator("button.labkit-tbl-reconnect")

    # The servers are stopped: the table says so, with one step that works.
    expect(message).to_contain_text(START_AGAIN)
    for name in ("bet", "hit", "stand", "double", "split", "insure"):
        expect(root.locator(f"button.labkit-tbl-{name}").first).to_be_disabled()
    reconnect.click()
    expect(message).to_have_count(0)
    me = root.locator('.labkit-tbl-seat[data-me="yes"]')
    expect(me).to_have_attribute("data-seat", "1")
    expect(me.locator(".labkit-tbl-chips")).to_have_attribute("data-chips", "1000")

    expect(bet).to_be_enabled()
    # Bets are open: the countdown runs in the page, with no redraw from the
    # kernel (an animated CSS integer, shown as "N s left").
    countdown = root.locator(".labkit-tbl-status .labkit-tbl-countdown")
    start = int(countdown.get_attribute("data-seconds"))
    page.wait_for_function(
        f"""() => {{
            const c = document.querySelector('.labkit-tbl-countdown');
            const left = getComputedStyle(c).getPropertyValue('--labkit-left');
            return parseInt(left) > 0 && parseInt(left) < {start} - 1;
        }}""",
        timeout=5_000,
    )
    bet.click()  # Bet 10: alone at the table, the hand is dealt at once
    expect(bet).to_be_disabled()
    expect(root.locator(".labkit-tbl-dealer .labkit-card").first).to_be_visible()
    # Stand on the first TURN (or the hand ended at once: a blackjack).
    page.wait_for_function(
        """() => {
            const t = document.querySelector('.labkit-tbl');
            return !t.querySelector('button.labkit-tbl-stand').disabled
                || t.querySelector('.labkit-tbl-result[data-outcome]') !== null;
        }""",
        timeout=15_000,
    )
    if stand.is_enabled():
        expect(hit).to_be_enabled()  # the TURN lists HIT and STAND
        stand.click()
    page.wait_for_function(SETTLED_JS, timeout=15_000)
    outcome = me.locator(".labkit-tbl-result").first
    assert outcome.get_attribute("data-outcome") in ("WIN", "LOSE", "PUSH", "BLACKJACK")
    net = int(outcome.get_attribute("data-net"))
    chips = me.locator(".labkit-tbl-chips")
    expect(chips).to_have_attribute("data-chips", str(1000 + net))
    expect(bet).to_be_enabled()  # bets open again for the next hand

    # Leave, then Watch: the seat empties and the buttons follow the lobby.
    root.locator("button.labkit-tbl-leave").click()
    expect(root.locator(".labkit-tbl-status")).to_contain_text("In the lobby")
    expect(me).to_have_count(0)
    root.locator("button.labkit-tbl-watch").click()
    expect(root.locator(".labkit-tbl-status")).to_contain_text("(watching)")
    expect(bet).to_be_disabled()
    assert not stderr_outputs(page)
    assert "Traceback" not in "\n".join(output_texts(page))
