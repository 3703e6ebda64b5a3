"""The table app as a class meets it: ``python -m labkit app`` (Voilà) in
headless Chromium, against a seeded tables server in a subprocess.

Three students open the play page, type their names and join table 1; a
projector opens the watch page. Everyone bets, the hand is played by clicks
(Hit below 13, else Stand, whenever a seat's TURN offers them), and every
page must show the same seats, bets, cards and results as every other.
Then an app whose tables server is not running: the page says so in
words, and a closed tab ends its kernel. A browser killed without closing
its page has its kernel ended once that page has been gone for
``--cull-after``, though its table still sends it lines, while an open page
keeps its own. Ctrl+C ends the app and every kernel it started (a preheated
pool too, without a traceback).

Needs Debian's chromium and Voilà (skipped without them, required in CI);
on failure each page's screenshot and the app's log are kept in
test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.register_assert_rewrite("browser_support")
pytest_plugins = ["browser_support"]

from browser_support import ARTIFACTS, CHROMIUM_ARGS  # noqa: E402
from support import (  # noqa: E402
    REQUIRED,
    ServeProcess,
    free_port,
    require_program,
    wait_until,
)

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=20_000)

SEED = "5"  # deals no ace to the dealer first: no insurance round to wait out
NAMES = ("ann", "bob", "cy")
BETS = (10, 25, 100)  # one chip button each, so every seat's bet differs
PAGE_TIMEOUT = 90_000  # ms: a page view starts a kernel; three at once on 2 cores

# The table as a page shows it: whose turn, each seat's cards and results,
# the dealer's cards. Every page must agree on it.
TABLE_JS = """() => {
    const root = document.querySelector('.labkit-tbl');
    if (!root) return null;
    const cards = (el) => [...el.querySelectorAll('.labkit-card')]
        .map((c) => c.dataset.card);
    const seats = {};
    for (const seat of root.querySelectorAll('.labkit-tbl-seat')) {
        seats[seat.dataset.seat] = {
            turn: seat.dataset.turn === 'yes',
            chips: seat.querySelector('.labkit-tbl-chips').dataset.chips,
            text: seat.querySelector('.labkit-tbl-chips').textContent,
            cards: cards(seat),
            results: [...seat.querySelectorAll('.labkit-tbl-result')]
                .map((r) => r.dataset.outcome + ' ' + r.dataset.net),
        };
    }
    return {seats, dealer: cards(root.querySelector('.labkit-tbl-dealer'))};
}"""

# Resolves once the table differs from ``before`` (a JSON string of TABLE_JS).
CHANGED_JS = f"""(before) => {{
    const now = ({TABLE_JS})();
    return now !== null && JSON.stringify(now) !== before;
}}"""


def require_voila() -> None:
    try:
        import voila  # noqa: F401
    except ImportError:
        message = "Voila is not installed (pip install 'labkit[app]')"
        if REQUIRED:
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)


class App:
    """``python -m labkit app`` in a subprocess; the URLs it printed."""

    def __init__(self, server: str, log: Path, *options: str) -> None:
        self.log_path = log
        self.port = free_port()
        self._log = open(log, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "labkit", "app", "--server", server]
            + ["--port", str(self.port), *options],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,  # a group of its own, to end at worst
        )
        self.printed = self._read_until("Ctrl+C stops the app.", timeout=90)
        self.play = re.search(r"students play:\s+(\S+)", self.printed).group(1)
        self.watch = re.search(r"projector:\s+(\S+)", self.printed).group(1)

    def _read_until(self, last: str, timeout: float) -> str:
        """What the app printed up to a line ending with ``last``.

        A thread reads: select() on a text pipe misses lines already in
        its buffer.
        """
        lines: list[str] = []
        done = threading.Event()

        def read() -> None:
            for line in self.process.stdout:
                lines.append(line)
                if line.rstrip("\n").endswith(last):
                    break
            done.set()

        threading.Thread(target=read, daemon=True).start()
        done.wait(timeout)
        if not (lines and lines[-1].rstrip("\n").endswith(last)):
            self.stop()
            raise AssertionError(
                f"labkit app printed {lines!r}, then stopped or stalled; "
                f"its log:\n{self.log()}"
            )
        return "".join(lines)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl+C, as the instructor presses it; the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.interrupt()
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


@contextmanager
def artifacts_on_failure(name: str, pages: list, app: App):
    """On failure keep each page's screenshot and the app's log."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = ARTIFACTS / f"test_browser_table_app_{name}"
        for number, page in enumerate(pages, 1):
            try:
                page.screenshot(path=f"{stem}.page{number}.png", full_page=True)
            except Exception:
                pass  # a dead page must not hide the real failure
        Path(f"{stem}.app.log").write_text(app.log())
        raise


@pytest.fixture(scope="module")
def tables_server():
    require_voila()
    # Long timers: the hand waits for every bet and every click, however
    # slowly CI's pages start.
    with ServeProcess(
        "tables", "--seed", SEED, "--bet-seconds", "300", "--turn-seconds", "300"
    ) as server:
        yield server


def table_on(page) -> dict:
    table = page.evaluate(TABLE_JS)
    assert table is not None, "the page shows no table"
    return table


def next_to_act(players: list, watch, timeout: float = 30.0):
    """(seat, page) of the player whose page shows its own turn and offers
    Stand, or None once the watch page shows every seat's result. (A page
    redraws its seats before its buttons: both must say so.)"""
    deadline = time.monotonic() + timeout
    while True:
        for seat, page in enumerate(players, 1):
            mine = page.locator('.labkit-tbl-seat[data-me="yes"][data-turn="yes"]')
            stand = page.locator("button.labkit-tbl-stand")
            if mine.count() and stand.is_enabled():
                return seat, page
        if watch.locator(".labkit-tbl-result").count() >= len(players):
            return None
        assert time.monotonic() < deadline, (
            "no one can act and the hand has no results: insurance? change SEED "
            f"({table_on(watch)})"
        )
        time.sleep(0.1)


def open_play_page(context, url: str):
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT)
    page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT)
    return page


@pytest.mark.timeout(300)
def test_three_pages_play_a_hand_and_see_each_other(
    chromium_context, tables_server, tmp_path
):
    app = App(f"127.0.0.1:{tables_server.port}", tmp_path / "app.log")
    pages: list = []
    try:
        with artifacts_on_failure("hand", pages, app):
            play_a_hand(chromium_context, app, pages)
    finally:
        for page in pages:
            page.close()
        app.stop()


def play_a_hand(context, app: App, pages: list) -> None:
    # Three students open the page at once: three kernels start together.
    players = [open_play_page(context, app.play) for _ in NAMES]
    pages.extend(players)
    for page, name, seat in zip(players, NAMES, (1, 2, 3), strict=True):
        root = page.locator(".labkit-app-play")
        root.locator(".labkit-app-name input").fill(name)
        expect(root.locator(".labkit-app-table select")).to_have_value(
            re.compile(r"^1 ")
        )
        root.locator("button.labkit-app-join").click()
        me = page.locator('.labkit-tbl-seat[data-me="yes"]')
        expect(me).to_have_attribute("data-seat", str(seat), timeout=30_000)
        expect(root.locator(".labkit-app-name")).to_be_hidden()
    assert "Traceback" not in "".join(p.content() for p in players)
    assert "labkit.apps.pages" not in players[0].content(), "the code shows"

    watch = context.new_page()
    pages.append(watch)
    watch.goto(app.watch, wait_until="commit", timeout=PAGE_TIMEOUT)
    expect(watch.locator(".labkit-app-watch .labkit-tbl-seat")).to_have_count(
        3, timeout=PAGE_TIMEOUT
    )
    everyone = [*players, watch]
    for page in everyone:
        for seat, name in enumerate(NAMES, 1):
            expect(
                page.locator(f'.labkit-tbl-seat[data-seat="{seat}"] b')
            ).to_have_text(f"{seat}. {name}")

    # Everyone bets; each page shows every bet, its own and the others'.
    for page, amount in zip(players, BETS, strict=True):
        button = page.locator("button.labkit-tbl-bet").filter(
            has_text=re.compile(rf"^Bet {amount}$")
        )
        expect(button).to_be_enabled()
        button.click()
    for page in everyone:
        for seat, amount in enumerate(BETS, 1):
            chips = page.locator(
                f'.labkit-tbl-seat[data-seat="{seat}"] .labkit-tbl-chips'
            )
            expect(chips).to_contain_text(f"bet {amount}")

    # The hand: the seat whose page offers Stand acts, and the watch page
    # shows that it is that seat's turn. (The watch page is not asked whose
    # turn it is: it may not yet have drawn the last move.)
    moves = []
    while (acting := next_to_act(players, watch)) is not None:
        seat, page = acting
        expect(
            watch.locator(f'.labkit-tbl-seat[data-seat="{seat}"]')
        ).to_have_attribute("data-turn", "yes")
        root = page.locator(".labkit-tbl")
        hit = root.locator("button.labkit-tbl-hit")
        hand = page.locator('.labkit-tbl-seat[data-me="yes"] .labkit-tbl-hand').last
        total = int(hand.get_attribute("data-total"))
        before = page.evaluate(f"() => JSON.stringify(({TABLE_JS})())")
        if total < 13 and hit.is_enabled():
            hit.click()
            moves.append(f"seat {seat} hits on {total}")
        else:
            root.locator("button.labkit-tbl-stand").click()
            moves.append(f"seat {seat} stands on {total}")
        page.wait_for_function(CHANGED_JS, arg=before, timeout=30_000)
        assert len(moves) < 30, f"the hand did not end after 30 moves: {moves}"

    # Every page shows the same hand: every seat's cards and results, the
    # dealer's cards, and each player's own result with chips moved by its net.
    expect(watch.locator(".labkit-tbl-result")).to_have_count(3)
    for page in everyone:
        expect(page.locator(".labkit-tbl-result")).to_have_count(3)
        expect(
            page.locator('.labkit-tbl-dealer .labkit-card[data-card="??"]')
        ).to_have_count(0)
    seen = {id(page): table_on(page) for page in everyone}
    reference = seen[id(watch)]
    for number, page in enumerate(players, 1):
        assert seen[id(page)] == reference, (
            f"page {number} shows another table than the watch page: "
            f"{seen[id(page)]} != {reference} (moves: {moves})"
        )
    for seat, amount in enumerate(BETS, 1):
        shown = reference["seats"][str(seat)]
        assert len(shown["cards"]) >= 2, f"seat {seat} has cards {shown['cards']}"
        outcome, net = shown["results"][0].split()
        assert outcome in ("WIN", "LOSE", "PUSH", "BLACKJACK"), shown
        assert shown["chips"] == str(1000 + int(net)), shown
        assert abs(int(net)) <= amount * 3 // 2, shown
        mine = players[seat - 1].locator('.labkit-tbl-seat[data-me="yes"]')
        expect(mine).to_have_attribute("data-seat", str(seat))
    assert len(reference["dealer"]) >= 2


def kernels_of(app: App) -> list:
    """The kernels Voila started for the app's pages (its children)."""
    import psutil

    found = []
    for process in psutil.Process(app.process.pid).children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass  # one that just ended
    return found


@pytest.mark.timeout(180)
def test_a_server_that_is_not_running_is_said_in_words(chromium_context, tmp_path):
    """Also: a closed tab ends its kernel, and Ctrl+C ends the rest."""
    require_voila()
    import psutil

    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there
    app = App(nowhere, tmp_path / "app.log")
    pages = [open_play_page(chromium_context, app.play) for _ in range(2)]
    try:
        with artifacts_on_failure("no_server", pages, app):
            assert "does not answer" in app.log(), app.log()
            for page in pages:
                message = page.locator(".labkit-app-play .labkit-app-message")
                expect(message).to_contain_text(
                    f"The tables server at {nowhere} cannot be reached",
                    timeout=PAGE_TIMEOUT,
                )
                expect(message).to_contain_text("Ask your instructor to start it")
                expect(page.locator("button.labkit-app-join")).to_have_text("Try again")
                assert "Traceback" not in page.content()

            kernels = kernels_of(app)
            assert len(kernels) == 2, f"two pages, kernels {kernels}"
            # A tab closed (its beforeunload runs) asks Voila to end its kernel.
            pages.pop().close(run_before_unload=True)
            gone, alive = psutil.wait_procs(kernels, timeout=20)
            assert len(gone) == 1 and len(alive) == 1, (
                f"closing a page ended {len(gone)} kernels, not 1: {app.log()}"
            )
            assert app.interrupt() == 0, app.log()
            _, alive = psutil.wait_procs(alive, timeout=10)
            assert not alive, f"kernels outlived the app: {alive}"
            assert "stopped" in app.log()
    finally:
        for page in pages:
            page.close()
        app.stop()


def wait_for_kernels(app: App, count: int, timeout: float = 90.0) -> list:
    """The app's kernels, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while len(kernels := kernels_of(app)) != count:
        assert time.monotonic() < deadline, f"{len(kernels)} kernels, not {count}"
        time.sleep(0.2)
    return kernels


def wait_until_settled(kernel, timeout: float = 90.0) -> None:
    """Until ``kernel`` has used no CPU for half a second: it has started and
    run its page's cells."""
    deadline = time.monotonic() + timeout
    used = sum(kernel.cpu_times()[:2])
    while True:
        time.sleep(0.5)
        before, used = used, sum(kernel.cpu_times()[:2])
        if used - before < 0.01:
            return
        assert time.monotonic() < deadline, f"kernel {kernel.pid} is still busy"


@pytest.mark.timeout(180)
def test_ctrl_c_ends_a_preheated_pool_without_a_traceback(tmp_path):
    """--preheat keeps kernels waiting in the middle of their page's cells;
    asked to shut down politely, such a kernel prints a traceback in the
    instructor's terminal. Ctrl+C ends them at once, and quietly."""
    require_voila()
    import psutil

    nowhere = f"127.0.0.1:{free_port()}"  # the pages just say so, then idle
    app = App(nowhere, tmp_path / "app.log", "--preheat", "2")
    try:
        kernels = wait_for_kernels(app, 2)
        for kernel in kernels:
            wait_until_settled(kernel)
        assert app.interrupt() == 0, app.log()
        _, alive = psutil.wait_procs(kernels, timeout=10)
        assert not alive, f"kernels outlived the app: {alive}"
        assert "stopped" in app.log()
        assert "Traceback" not in app.log(), app.log()
    finally:
        app.stop()


class Regular(threading.Thread):
    """A player who sits down at table 1 and gets up, again and again, until
    stopped: every watcher of the table gets lines all the while."""

    def __init__(self, server: ServeProcess) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection((server.host, server.port), timeout=5)
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.sock:
            while not self.stopped.wait(0.3):
                self.sock.sendall(b"JOIN 1\r\n")
                self._read_until(b"STATE END")
                self.sock.sendall(b"LEAVE\r\n")
                self._read_until(b"LEFT 1")

    def _read_until(self, line: bytes) -> None:
        got = b""
        while line not in got:
            data = self.sock.recv(4096)
            assert data, f"the tables server closed on us after {got!r}"
            got += data


def connections_to(app: App, kernel) -> int:
    """How many pages are connected to ``kernel``, as Voila counts them."""
    kernel_id = re.search(r"kernel-([0-9a-f-]+)\.json", " ".join(kernel.cmdline()))
    url = f"http://127.0.0.1:{app.port}/api/kernels/{kernel_id.group(1)}"
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)["connections"]


@pytest.mark.timeout(180)
def test_a_browser_gone_without_closing_its_page_frees_its_kernel(
    chromium_context, tmp_path
):
    """A killed browser sends no close request; the culler ends its kernel
    once its page has been gone for --cull-after, though its table still
    sends it lines, while an open page keeps its own."""
    require_voila()
    import psutil

    chromium = require_program("chromium")
    with ServeProcess("tables") as server:
        app = App(
            f"{server.host}:{server.port}", tmp_path / "app.log", "--cull-after", "3"
        )
        regular = Regular(server)
        regular.start()
        kept = open_play_page(chromium_context, app.watch)
        try:
            with artifacts_on_failure("gone", [kept], app):
                expect(kept.locator(".labkit-tbl")).to_be_visible(timeout=PAGE_TIMEOUT)
                [kept_kernel] = wait_for_kernels(app, 1)
                # A second browser, a process of our own: opened on the same
                # table, then killed once its page is connected to its kernel.
                browser = subprocess.Popen(
                    [chromium, *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'gone'}"]
                    + [app.watch],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                try:
                    kernels = wait_for_kernels(app, 2)
                    [orphan] = [k for k in kernels if k.pid != kept_kernel.pid]
                    assert wait_until(
                        lambda: connections_to(app, orphan) > 0,
                        timeout=90,
                        interval=0.2,
                    ), "the page never connected"
                finally:
                    os.killpg(browser.pid, signal.SIGKILL)
                    browser.wait(10)
                killed = time.monotonic()
                gone, _ = psutil.wait_procs([orphan], timeout=30)
                assert gone, f"the gone browser's kernel still runs: {app.log()}"
                assert time.monotonic() - killed >= 3, "culled before --cull-after"
                # The open page is spared, and its table still reaches it.
                assert kept_kernel.is_running(), app.log()
                before = kept.evaluate(f"() => JSON.stringify(({TABLE_JS})())")
                kept.wait_for_function(CHANGED_JS, arg=before, timeout=10_000)
                assert regular.is_alive(), "the regular player stopped"
                assert app.interrupt() == 0, app.log()
        finally:
            regular.stopped.set()
            regular.join(10)
            kept.close()
            app.stop()
