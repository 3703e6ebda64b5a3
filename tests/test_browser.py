"""The notebooks as a learner meets them: JupyterLab in headless Chromium.

nbval checks what the kernel prints; this checks what the page shows, through
the real front end, in the orders a learner takes: Run All and then use
every widget the notebook shows (after the last cell has stopped the
servers); run the cell that starts a server again; click as the text says,
then run the cells below. Here 00 (the Ping button, the echo console) and
08 (a round at the table against the Twisted server); 06 is
tests/test_browser_blackjack.py and 11 tests/test_browser_tables.py. Needs
Debian's chromium (skipped without it, required in CI).
"""

from __future__ import annotations

import re

import pytest

# browser_support is also this module's plugin (fixtures jupyterlab and page,
# the screenshot on failure); registered before the import so that its
# asserts are rewritten like a test's.
pytest.register_assert_rewrite("browser_support")
pytest_plugins = ["browser_support"]

from browser_support import (  # noqa: E402
    A_NEW_SERVER,
    START_AGAIN,
    STOPPED,
    BlackjackPage,
    cell_index,
    clean_outputs,
    open_notebook,
    run_all_cells,
    run_cells,
    stderr_outputs,
)

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=10_000)

START_HERE = "00-start-here.ipynb"
TWISTED = "08-twisted.ipynb"

# What 00-start-here shows once it has run: one fact from each part.
START_HERE_EXPECTED = [
    "loopback 127.0.0.1 carries bytes both ways: yes",
    "one more click, and the answer follows it: True",
    re.compile(r"the hello server listens on 127\.0\.0\.1:\d+"),
    "Hello 127.0.0.1",
    "S: every byte comes back",
    "back: sent from a cell",
    "status line: HTTP/1.0 200 OK",
    "page title:  labkit: a page served from your own machine",
    STOPPED,
]


def check_outputs(page, expected: list) -> None:
    """Every expected text (or pattern) is on the page, and nothing on stderr."""
    shown = clean_outputs(page)
    for item in expected:
        pattern = item if isinstance(item, re.Pattern) else re.escape(item)
        assert re.search(pattern, shown), f"{item!r} is not on the page:\n{shown}"


def ping_answer(page) -> int:
    """Click Ping; return the click number the kernel answers with."""
    answer = page.locator(".labkit-ping-answer")
    before = answer.inner_text().strip()
    page.locator(".labkit-ping").click()
    expect(answer).not_to_have_text(before)
    expect(answer).to_have_text(re.compile(r"the kernel answered click \d+"))
    return int(answer.inner_text().split()[-1])


def send_in_console(page, line: str) -> None:
    """Type ``line`` in the echo console and press Enter, as a learner does."""
    box = page.locator(".labkit-echo .labkit-echo-input input")
    expect(box).to_be_enabled()
    box.fill(line)
    box.press("Enter")


@pytest.mark.timeout(150)  # the internal waits fail first, with a message
def test_start_here_run_all_then_use_every_widget(page, jupyterlab):
    open_notebook(page, jupyterlab, START_HERE)
    run_all_cells(page)
    check_outputs(page, START_HERE_EXPECTED)

    # Again in the same kernel: the servers are replaced, not "in use".
    run_all_cells(page)
    check_outputs(page, START_HERE_EXPECTED)

    # Widgets render (their labextension was found) and the kernel answers a
    # real click: Run All counted from 0 and clicked once from a cell.
    banner = page.locator(".labkit-widgets-work")
    assert banner.inner_text().strip() == "Widgets work in this browser."
    assert ping_answer(page) == 2
    assert ping_answer(page) == 3

    # The echo console after the last cell stopped its server: the first
    # line says so and names one step; Reconnect starts the server again.
    console = page.locator(".labkit-echo")
    log = console.locator(".labkit-echo-log")
    expect(log).to_contain_text("back: sent from a cell")
    send_in_console(page, "after Run All")
    message = console.locator(".labkit-echo-message .labkit-message")
    expect(message).to_contain_text("is gone")
    expect(message).to_contain_text(START_AGAIN)
    expect(log).to_contain_text("sent: after Run All")  # the log stays
    console.locator("button.labkit-echo-reconnect").click()
    expect(message).to_have_count(0)
    send_in_console(page, "the server is back")
    expect(log).to_contain_text("back: the server is back")
    send_in_console(page, "and stays")
    expect(log).to_contain_text("back: and stays")
    assert not stderr_outputs(page)


@pytest.mark.timeout(150)
def test_start_here_run_all_then_rerun_the_echo_server_cell(page, jupyterlab):
    open_notebook(page, jupyterlab, START_HERE)
    run_all_cells(page)

    # The cell that starts the echo server, run again: the console (its cell
    # not re-run) finds its server gone and names the new one; one Reconnect.
    server_cell = cell_index(START_HERE, "dcce9560")
    run_cells(page, server_cell, server_cell)
    console = page.locator(".labkit-echo")
    log = console.locator(".labkit-echo-log")
    message = console.locator(".labkit-echo-message .labkit-message")
    send_in_console(page, "to the old server")
    expect(message).to_contain_text(A_NEW_SERVER)
    console.locator("button.labkit-echo-reconnect").click()
    expect(message).to_have_count(0)
    send_in_console(page, "to the new one")
    expect(log).to_contain_text("back: to the new one")

    # The console's cell run again makes a new console in its place, and the
    # cell below talks to it.
    console_cell = cell_index(START_HERE, "073c3972")
    run_cells(page, console_cell, console_cell + 2)
    expect(console).to_have_count(1)
    expect(log).not_to_contain_text("to the new one")
    expect(log).to_contain_text("back: sent from a cell")
    send_in_console(page, "typed after")
    expect(log).to_contain_text("back: typed after")
    assert not stderr_outputs(page)


@pytest.mark.timeout(120)
def test_start_here_click_as_told_then_run_the_cells_below(page, jupyterlab):
    ping_cell = cell_index(START_HERE, "ee0920ca")
    console_cell = cell_index(START_HERE, "073c3972")
    open_notebook(page, jupyterlab, START_HERE)

    # Up to the Ping button; click it as the text says, twice for luck.
    run_cells(page, 0, ping_cell)
    ping_answer(page)
    ping_answer(page)
    # On to the echo console; type lines in it as its text says.
    run_cells(page, ping_cell + 1, console_cell)
    log = page.locator(".labkit-echo .labkit-echo-log")
    for line in ("typed by hand", "and another"):
        send_in_console(page, line)
        expect(log).to_contain_text(f"back: {line}")
    # The rest of the notebook still holds.
    run_cells(page, console_cell + 1)
    check_outputs(page, START_HERE_EXPECTED)


@pytest.mark.timeout(120)
def test_twisted_run_all_then_play_a_round(page, jupyterlab):
    open_notebook(page, jupyterlab, TWISTED)
    run_all_cells(page)
    check_outputs(page, ["it declares IHalfCloseableProtocol: True", STOPPED])

    # The table shows the round its cell played; the server is stopped.
    table = BlackjackPage(page)
    expect(table.result).to_have_count(1)
    table.reconnect_after(table.deal, START_AGAIN)
    outcome = table.play_round()
    assert outcome in ("WIN", "LOSE", "PUSH")
    # Its transcript (open from its cell) is this connection's, checked.
    transcript = table.root.locator(".labkit-bj-transcript")
    expect(transcript).to_contain_text("S: WELCOME labkit-blackjack/1")
    expect(transcript).to_contain_text(f"S: RESULT {outcome} ")
    assert not stderr_outputs(page)


@pytest.mark.timeout(150)
def test_twisted_run_all_then_rerun_the_server_cell(page, jupyterlab):
    table_cell = cell_index(TWISTED, "cb6af418")
    open_notebook(page, jupyterlab, TWISTED)
    run_all_cells(page)

    # The cell that starts the server also makes the table: run again, it
    # shows a new table in place of the old, connected to the new server.
    run_cells(page, table_cell, table_cell)
    table = BlackjackPage(page)
    expect(table.root).to_have_count(1)
    expect(table.message).to_have_count(0)
    assert table.play_round() in ("WIN", "LOSE", "PUSH")
    # The cells below, run again, play on that table and that server.
    run_cells(page, table_cell + 1)
    check_outputs(page, ["it declares IHalfCloseableProtocol: True", STOPPED])
    expect(table.result).to_have_attribute("data-round", "2")


@pytest.mark.timeout(120)
def test_twisted_click_as_told_then_run_the_cells_below(page, jupyterlab):
    table_cell = cell_index(TWISTED, "cb6af418")
    open_notebook(page, jupyterlab, TWISTED)
    run_cells(page, 0, table_cell)

    # Deal, then Hit: the round is left in play for the cell below, which
    # clicks the same table's buttons and plays the round to its result.
    table = BlackjackPage(page)
    table.deal.click()
    expect(table.player.locator(".labkit-card")).to_have_count(2)
    table.hit.click()
    expect(table.player.locator(".labkit-card")).to_have_count(3)
    run_cells(page, table_cell + 1)
    check_outputs(page, ["it declares IHalfCloseableProtocol: True", STOPPED])
    expect(table.result).to_have_count(1)
