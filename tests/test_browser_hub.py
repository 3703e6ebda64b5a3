"""A class on the JupyterHub of `make hub`, in headless Chromium.

The hub is started as `make hub` starts it (hub/jupyterhub_config.py, the
proxy from npm, the instructor's tables server as a managed service), on
free ports, with its state and the learners' homes in a scratch dir. Three
learners log in, each in a browser context of their own; each opens
notebook 11 in their own server and runs its class cell, which sits them at
table 1 of the instructor's server. They bet and play one hand by clicks,
and every page shows every seat's bet, cards and result alike. Then
learner2's kernel is restarted (Kernel > Restart Kernel and Clear Outputs),
the class cell run again, and learner2 has the same seat and chips: the
token kept in their home (labkit.tables.seats) took the seat back.

It also measures what the README's "Teaching a class" quotes: the hub's
start time, and the memory of each learner's server with the lab open and
the notebook's kernel running (test-artifacts/hub-figures.json).

Needs Debian's chromium and node with npm (skipped without them, required
in CI). On failure the pages' screenshots and the hub's log are kept in
test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import pytest
from support import free_port, require_program

pytest.register_assert_rewrite("browser_support")
from browser_support import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM_ARGS,
    KERNEL_READY_JS,
    LAB_SETTINGS,
    NOTEBOOK,
    REPO,
    USER_ENV,
    VIEWPORT,
    answers,
    open_notebook,
    run_cells,
    stderr_outputs,
)

pytestmark = pytest.mark.browser

LEARNERS = ("learner1", "learner2", "learner3")
PASSWORD = "a-class-password"
TABLES = "11-tables.ipynb"
# Seed 2, three seats at table 1: the dealer shows a 6 (no insurance to wait
# out), the hands are 19, 14 and 20, so standing is a fine play for all and
# learner2's chips move whatever the dealer draws (14 never pushes). Bets
# stay open until all three have bet (the round opens when learner1 sits
# down, and three servers starting on two busy cores can take minutes);
# long turns for the same reason.
TABLES_OPTIONS = "--seed 2 --bet-seconds 900 --turn-seconds 120"
START_TIMEOUT = 90.0
SPAWN_TIMEOUT = 180.0


def class_cell_index() -> tuple[int, int]:
    """The indices of notebook 11's imports cell and its class cell."""
    cells = nbformat.read(REPO / "notebooks" / TABLES, as_version=4).cells
    imports = next(
        i for i, c in enumerate(cells) if "from labkit.widgets import" in c.source
    )
    joins = next(
        i
        for i, c in enumerate(cells)
        if "LABKIT_TABLES" in c.source and (c.cell_type == "code")
    )
    return imports, joins


# -- the hub ---------------------------------------------------------------------


@dataclass
class Hub:
    url: str  # http://127.0.0.1:PORT/
    state: Path
    log_path: Path
    started_in: float  # seconds from the command to the login page answering
    process: subprocess.Popen = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def processes(self) -> list[psutil.Process]:
        """The hub and everything it started (each server leads its own
        session, so the process group alone does not find them)."""
        try:
            hub = psutil.Process(self.process.pid)
            return [hub, *hub.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def server_of(self, learner: str) -> psutil.Process:
        """The learner's jupyterhub-singleuser process."""
        home = str(self.state / "homes" / learner)
        for process in self.processes():
            try:
                if "jupyterhub-singleuser" in " ".join(process.cmdline()) and (
                    process.cwd() == home
                ):
                    return process
            except psutil.Error:
                continue
        raise LookupError(f"no server of {learner} among the hub's processes")


class LearnerLab:
    """What open_notebook needs of a lab: URLs, here the learner's server's."""

    def __init__(self, hub: Hub, learner: str) -> None:
        self.base = f"{hub.url}user/{learner}/"

    def url(self, path: str) -> str:
        return self.base + path


def proxy_for(directory: Path) -> Path:
    """configurable-http-proxy from npm, by make hub's own rule, in
    ``directory`` (npm's cache makes it quick after the first time)."""
    require_program("node")
    require_program("npm")
    proxy = directory / "node_modules/.bin/configurable-http-proxy"
    subprocess.run(
        ["make", "--no-print-directory", f"HUB_DIR={directory}", str(proxy)],
        cwd=REPO,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    return proxy


def prepare_home(home: Path) -> None:
    """The browser tests' JupyterLab settings (every cell in the DOM, no
    news) and window.jupyterapp, which browser_support's waits read. A
    learner's ~/.jupyter is theirs to configure: the hub's config stays as
    `make hub` has it."""
    settings = home / ".jupyter/lab/user-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    server_config = {"LabApp": {"expose_app_in_browser": True}}
    (home / ".jupyter/jupyter_server_config.json").write_text(json.dumps(server_config))


def stop(hub: Hub, timeout: float = 20.0) -> None:
    """SIGTERM: the hub stops the learners' servers, the tables service and
    the proxy itself. Whatever is left after ``timeout`` is killed."""
    everything = hub.processes()
    try:
        hub.process.send_signal(signal.SIGTERM)
        hub.process.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    _, alive = psutil.wait_procs(everything, timeout=5)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    try:
        os.killpg(hub.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    hub.process.wait(5)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    require_program("chromium")
    pytest.importorskip("playwright.sync_api")
    proxy = proxy_for(tmp_path_factory.mktemp("proxy"))
    state = tmp_path_factory.mktemp("hub")
    for learner in LEARNERS:
        prepare_home(state / "homes" / learner)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in USER_ENV}
    env.update(
        LABKIT_HUB_DIR=str(state),
        LABKIT_HUB_IP="127.0.0.1",
        LABKIT_HUB_PORT=str(port),
        LABKIT_HUB_API_PORT=str(free_port()),
        LABKIT_HUB_PROXY_API_PORT=str(free_port()),
        LABKIT_TABLES_PORT=str(free_port()),
        LABKIT_TABLES_OPTIONS=TABLES_OPTIONS,
        LABKIT_HUB_LEARNERS=str(len(LEARNERS)),
        LABKIT_HUB_PASSWORD=PASSWORD,
        LABKIT_HUB_PROXY=str(proxy),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PYTHONUNBUFFERED="1",
    )
    env.pop("LABKIT_SEATS", None)  # the learners' own homes keep their tokens
    url = f"http://127.0.0.1:{port}/"
    log_path = state / "hub.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jupyterhub"),
                "-f",
                str(REPO / "hub/jupyterhub_config.py"),
            ],
            cwd=REPO,  # as make runs it
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(url, state, log_path, 0.0, process)
    try:
        deadline = started + START_TIMEOUT
        while not answers(url + "hub/login"):
            if process.poll() is not None:
                pytest.fail(
                    f"the hub exited ({process.returncode}):\n{hub.log()[-4000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no login page within {START_TIMEOUT:g} s:\n{hub.log()[-4000:]}"
                )
            time.sleep(0.1)
        hub.started_in = time.monotonic() - started
        yield hub
    finally:
        stop(hub)


# -- the pages -------------------------------------------------------------------


@contextmanager
def artifacts_on_failure(name: str, pages: dict, hub: Hub):
    """On an exception: each page's screenshot and console, and the hub's log."""
    consoles: dict[str, list[str]] = {learner: [] for learner in pages}
    for learner, page in pages.items():
        page.on(
            "console", lambda m, c=consoles[learner]: c.append(f"{m.type}: {m.text}")
        )
        page.on("pageerror", lambda e, c=consoles[learner]: c.append(f"pageerror: {e}"))
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = ARTIFACTS / name
        for learner, page in pages.items():
            try:
                page.screenshot(path=f"{stem}.{learner}.png", full_page=True)
            except Exception as exc:  # a dead page must not hide the failure
                consoles[learner].append(f"(no screenshot: {exc})")
            Path(f"{stem}.{learner}.console.txt").write_text(
                "\n".join(consoles[learner]) + "\n"
            )
        Path(f"{stem}.hub.log").write_text(hub.log())
        raise


def log_in(page, hub: Hub, learner: str) -> None:
    """The hub's login form, then the learner's own JupyterLab once it spawned."""
    page.goto(hub.url + "hub/login")
    page.locator("#username_input").fill(learner)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#login_submit").click()
    page.wait_for_url(re.compile(f"/user/{learner}/lab"), timeout=SPAWN_TIMEOUT * 1000)


def cell_output(page, index: int) -> str:
    cell = page.locator(f"{NOTEBOOK} .jp-Notebook .jp-Cell").nth(index)
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


CLEAR_OUTPUTS_JS = (
    "() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')"
)
RESTART_JS = """() => {
    window.jupyterapp.commands.execute('notebook:restart-clear-output');
}"""
SEATED = re.compile(r"(learner\d): table 1, seat (\d), (\d+) chips")

# The seat's hand is settled (a result shown) on this page.
SETTLED_JS = """(seat) => {
    const s = document.querySelector(
        `.labkit-tbl .labkit-tbl-seat[data-seat="${seat}"]`);
    return !!s && s.querySelector('.labkit-tbl-result[data-outcome]') !== null;
}"""

# This learner may Stand now, or their hand ended without a turn (21).
MY_TURN_OR_DONE_JS = """() => {
    const t = document.querySelector('.labkit-tbl');
    const me = t.querySelector('.labkit-tbl-seat[data-me="yes"]');
    return !t.querySelector('button.labkit-tbl-stand').disabled
        || (me && me.querySelector('.labkit-tbl-result[data-outcome]') !== null);
}"""


def seats_as_shown(page) -> dict[str, dict]:
    """Every seat on the page: its cards, hand text, result and chips."""
    shown = {}
    for seat in page.locator(".labkit-tbl .labkit-tbl-seat").all():
        result = seat.locator(".labkit-tbl-result")
        shown[seat.get_attribute("data-seat")] = {
            "cards": [
                c.get_attribute("data-card") for c in seat.locator(".labkit-card").all()
            ],
            "hand": seat.locator(".labkit-tbl-hand").first.inner_text().split("\n")[0],
            "outcome": result.first.get_attribute("data-outcome"),
            "chips": seat.locator(".labkit-tbl-chips").get_attribute("data-chips"),
        }
    return shown


def resident_mib(process: psutil.Process, kind: str = "rss") -> float:
    """Memory of a process and its children (the server and its kernel), MiB:
    ``rss``, or ``pss``, which shares the pages of common libraries among
    the processes that map them (what one more learner adds, nearly)."""
    total = 0
    for each in [process, *process.children(recursive=True)]:
        try:
            info = each.memory_full_info() if kind == "pss" else each.memory_info()
            total += getattr(info, kind)
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def cpu_seconds(process: psutil.Process) -> float:
    """User and system CPU time of a process and its children, in seconds."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


# -- the test --------------------------------------------------------------------


@pytest.mark.timeout(1200)
def test_three_learners_play_a_hand_on_the_hub_and_one_rejoins_after_a_restart(hub):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    imports, joins = class_cell_index()
    chromium = require_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            pages = {}
            for learner in LEARNERS:  # one context each: cookies of their own
                page = browser.new_context(viewport=VIEWPORT).new_page()
                page.set_default_timeout(60_000)
                pages[learner] = page
            with artifacts_on_failure("test_browser_hub", pages, hub):
                play_the_class(hub, pages, imports, joins)
        finally:
            browser.close()


def play_the_class(hub: Hub, pages: dict, imports: int, joins: int) -> None:
    from playwright.sync_api import expect

    figures: dict = {"hub_start_seconds": round(hub.started_in, 2)}

    # Log in and sit down, in turn: learner1 gets seat 1, and so on.
    figures["spawn_seconds"] = {}
    for number, (learner, page) in enumerate(pages.items(), start=1):
        clicked = time.monotonic()
        log_in(page, hub, learner)
        figures["spawn_seconds"][learner] = round(time.monotonic() - clicked, 1)
        open_notebook(page, LearnerLab(hub, learner), TABLES, timeout=120)
        # The learner's copy has the stored outputs and execution counts, which
        # run_cells would take for this kernel's: clear them first.
        page.evaluate(CLEAR_OUTPUTS_JS)
        run_cells(page, imports, imports, timeout=120)
        run_cells(page, joins, joins, timeout=120)
        said = SEATED.search(cell_output(page, joins))
        assert said, f"{learner}'s class cell: {cell_output(page, joins)!r}"
        assert said.groups() == (learner, str(number), "1000"), said.group(0)
    for page in pages.values():  # everyone sees everyone
        expect(page.locator(".labkit-tbl .labkit-tbl-seat")).to_have_count(3)

    # The memory of a learner's server with the lab open and the kernel
    # running, while it plays.
    servers = {learner: hub.server_of(learner) for learner in pages}
    figures["server_mib"] = {
        learner: round(resident_mib(server), 1) for learner, server in servers.items()
    }
    figures["server_pss_mib"] = {
        learner: round(resident_mib(server, "pss"), 1)
        for learner, server in servers.items()
    }
    # CPU spent so far by each server and its kernel: starting them, the
    # lab's page load, the notebook's imports and the join.
    figures["server_cpu_seconds"] = {
        learner: round(cpu_seconds(server), 1) for learner, server in servers.items()
    }
    # What the class costs whatever its size: the hub, its proxy, the tables
    # server (every process of the hub's but the learners' servers).
    theirs = {p.pid for s in servers.values() for p in [s, *s.children(recursive=True)]}
    figures["hub_proxy_tables_mib"] = round(
        sum(p.memory_info().rss for p in hub.processes() if p.pid not in theirs)
        / 2**20,
        1,
    )

    # Bets by clicks; the last one closes betting and the hand is dealt.
    for page in pages.values():
        bet = page.locator(".labkit-tbl button.labkit-tbl-bet").first
        expect(bet).to_be_enabled()
        bet.click()
        expect(bet).to_be_disabled()
    # Turns go in seat order: each learner stands when the table offers it.
    for page in pages.values():
        page.wait_for_function(MY_TURN_OR_DONE_JS, timeout=90_000)
        stand = page.locator(".labkit-tbl button.labkit-tbl-stand")
        if stand.is_enabled():
            stand.click()
    for page in pages.values():
        for seat in (1, 2, 3):
            page.wait_for_function(SETTLED_JS, arg=seat, timeout=90_000)

    # Every page shows every seat alike: the bet, the same cards, the result.
    shown = {learner: seats_as_shown(page) for learner, page in pages.items()}
    first = shown["learner1"]
    assert sorted(first) == ["1", "2", "3"], first
    for view in first.values():
        assert len(view["cards"]) >= 2 and "??" not in view["cards"], view
        assert "bet 10" in view["hand"], view
        assert view["outcome"] in ("WIN", "LOSE", "PUSH", "BLACKJACK"), view
    for learner, seats in shown.items():
        assert seats == first, f"{learner} sees another table: {seats} vs {first}"
    for learner, page in pages.items():
        assert not stderr_outputs(page), f"{learner}'s notebook wrote to stderr"
    seat, chips = "2", first["2"]["chips"]
    assert chips != "1000", "learner2's chips moved (seed 2: 14 never pushes)"

    # learner2's kernel restarts: its connection ends, the seat waits 60 s.
    page = pages["learner2"]
    kernel = next(
        p
        for p in hub.server_of("learner2").children(recursive=True)
        if "ipykernel" in " ".join(p.cmdline())
    )
    # Not awaited: the command's promise settles only once the dialog is
    # answered, which is the next step.
    page.evaluate(RESTART_JS)
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    kernel.wait(60)  # the old kernel is gone, and its socket with it
    page.wait_for_function(KERNEL_READY_JS, arg=TABLES, timeout=60_000, polling=100)
    restarted = time.monotonic()
    run_cells(page, imports, imports, timeout=60)
    run_cells(page, joins, joins, timeout=60)
    figures["rejoin_seconds"] = round(time.monotonic() - restarted, 2)
    said = SEATED.search(cell_output(page, joins))
    assert said, (
        f"learner2's class cell after the restart: {cell_output(page, joins)!r}"
    )
    assert said.groups() == ("learner2", seat, chips), (
        f"learner2 sat down afresh: {said.group(0)}, not seat {seat} with {chips}"
    )
    me = page.locator('.labkit-tbl .labkit-tbl-seat[data-me="yes"]')
    expect(me).to_have_attribute("data-seat", seat)
    expect(me.locator(".labkit-tbl-chips")).to_have_attribute("data-chips", chips)
    tokens = json.loads((hub.state / "homes/learner2/.labkit/seats.json").read_text())
    assert len(tokens) == 1, tokens
    for other in ("learner1", "learner3"):  # still three seats, no fourth
        expect(pages[other].locator(".labkit-tbl .labkit-tbl-seat")).to_have_count(3)

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hub-figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures))
