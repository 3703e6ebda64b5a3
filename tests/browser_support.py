"""A real JupyterLab in headless Chromium, for the browser tests.

The pieces, each usable alone:

- ``JupyterLab.start(workdir)``: ``jupyter lab`` from this venv on a free port
  with a random token, serving a scratch copy of ``notebooks/`` (and of any
  other ``folders`` it is given) with the stored outputs removed (so
  whatever the page shows was computed now, and the browser never saves into
  the repository). The user's own Jupyter
  config, settings, workspaces, user-level data dir and IPython profile are
  replaced by empty scratch ones; the venv's labextensions and kernelspecs
  (under ``sys.prefix``) stay visible, so ipywidgets still render.
- ``launch_chromium(playwright, ...)``: Debian's chromium through Playwright,
  headless, offline-friendly, with a fresh profile.
- ``open_notebook``, ``run_all_cells``, ``run_cells``, ``output_texts``,
  ``stderr_outputs``: what a test does on the page, waiting on JupyterLab's
  own state (the kernel status indicator, the cells' execution counts),
  never on a sleep.
- ``BlackjackPage``: a Blackjack table on the page, played by clicks, each
  round checked against the rules (``play_round``).
- the ``jupyterlab``, ``chromium_context`` and ``page`` fixtures: a test
  module gets them with ``pytest_plugins = ["browser_support"]``. When a test
  that used ``page`` fails, its screenshot, the page's console and the
  server's log go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from support import require_program

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts"  # git-ignored

# Headless and offline: no sandbox (CI runs as root), no GPU, and nothing that
# phones home or waits for the network (QUIC, sync, component updates).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 1600}

# JupyterLab settings for a test: every cell attached to the DOM (the default
# windowing may leave off-screen cells out), and no news or update checks
# (they would try the internet and pop up a notification).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# Environment variables that would point JupyterLab or the kernel at the
# user's own files; the scratch ones replace them.
USER_ENV = (
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_CONFIG_PATH",
    "JUPYTER_DATA_DIR",
    "JUPYTER_PATH",
    "JUPYTER_RUNTIME_DIR",
    "JUPYTERLAB_SETTINGS_DIR",
    "JUPYTERLAB_WORKSPACES_DIR",
    "JUPYTER_PORT",
    "JUPYTER_TOKEN",
    "IPYTHONDIR",
)

STDERR_MIME = "application/vnd.jupyter.stderr"
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in view
KERNEL_IDLE = f'{NOTEBOOK} .jp-Notebook-ExecutionIndicator[data-status="idle"]'

# What the notebooks and widgets say, as a learner reads it on the page: the
# last cell's check, and a widget's one step once its server is gone.
STOPPED = "every server stopped; no labkit thread left"
START_AGAIN = "Click Reconnect to start the server again and connect."
A_NEW_SERVER = re.compile(r"A new server runs on 127\.0\.0\.1:(\d+): click Reconnect\.")


def strip_outputs(source: Path, target: Path) -> None:
    """Copy a notebook without its outputs and execution counts.

    One that does not parse (someone is writing it) is copied as it is: only
    a test that opens it should fail, not every browser test.
    """
    try:
        notebook = nbformat.read(source, as_version=4)
    except Exception:
        shutil.copy2(source, target)
        return
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(notebook, target)


@dataclass
class JupyterLab:
    """A running ``jupyter lab``; use ``JupyterLab.start`` as a context manager."""

    root: Path  # the scratch copy of notebooks/ it serves
    base_url: str  # http://127.0.0.1:PORT/
    token: str
    log_path: Path  # the server's stdout and stderr
    process: subprocess.Popen = field(repr=False)

    def url(self, path: str) -> str:
        """``lab/tree/x.ipynb`` -> the full URL with the token."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @classmethod
    @contextmanager
    def start(
        cls,
        workdir: Path,
        *,
        timeout: float = 60.0,
        folders: dict[str, Path] | None = None,
    ):
        """Start JupyterLab in ``workdir`` (scratch); stop it on exit.

        ``folders`` serves more notebooks beside notebooks/'s, as ``make lab``
        does: {"exercises": path} puts path's notebooks (outputs removed)
        in the served root's exercises/.
        """
        root = workdir / "notebooks"
        root.mkdir(parents=True)
        for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
            strip_outputs(notebook, root / notebook.name)
        for other in NOTEBOOKS.iterdir():
            if other.is_file() and other.suffix != ".ipynb":
                shutil.copy2(other, root / other.name)
        for name, source in (folders or {}).items():
            (root / name).mkdir(parents=True)
            for notebook in sorted(source.glob("*.ipynb")):
                strip_outputs(notebook, root / name / notebook.name)

        home = workdir / "jupyter"
        dirs = {
            "JUPYTER_CONFIG_DIR": home / "config",
            "JUPYTER_DATA_DIR": home / "data",  # the user-level one; the venv's stays
            "JUPYTER_RUNTIME_DIR": home / "runtime",
            "JUPYTERLAB_SETTINGS_DIR": home / "settings",
            "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
            "IPYTHONDIR": home / "ipython",
        }
        for path in dirs.values():
            path.mkdir(parents=True)
        for plugin, settings in LAB_SETTINGS.items():
            path = dirs["JUPYTERLAB_SETTINGS_DIR"] / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))

        env = {k: v for k, v in os.environ.items() if k not in USER_ENV}
        env.update({name: str(path) for name, path in dirs.items()})
        env["JUPYTER_PREFER_ENV_PATH"] = "1"  # the venv's kernelspecs first
        env["PYTHONUNBUFFERED"] = "1"

        token = secrets.token_hex(24)
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port=0",  # the server picks a free port ...
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={root}",
            f"--IdentityProvider.token={token}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # make lab's app settings: its page_config.json disables the
            # instructors' nbgrader menus, which learners do not see either.
            f"--LabApp.app_settings_dir={REPO / 'jupyter'}",
            # window.jupyterapp: lets a test ask the front end whether the
            # notebook's kernel is connected (the status bar says "Idle" before).
            "--LabApp.expose_app_in_browser=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")

        log_path = workdir / "jupyterlab.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its kernels too: one group to stop
            )
        lab = None
        try:
            # ... and writes it to jpserver-PID.json in the runtime dir.
            info_file = dirs["JUPYTER_RUNTIME_DIR"] / f"jpserver-{process.pid}.json"
            deadline = time.monotonic() + timeout
            info = _wait_for(
                lambda: _read_json(info_file),
                deadline,
                process,
                log_path,
                f"{info_file.name} to appear",
            )
            base_url = f"http://127.0.0.1:{info['port']}/"
            lab = cls(root, base_url, token, log_path, process)
            _wait_for(
                lambda: answers(lab.url("api/status")),
                deadline,
                process,
                log_path,
                "/api/status to answer",
            )
            yield lab
        finally:
            stop_process_group(process)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # not there yet, or half written


def answers(url: str) -> bool:
    """True if ``url`` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _wait_for(condition, deadline, process, log_path, what):
    """Poll ``condition`` until it returns something true; fail on exit or timeout."""
    while True:
        result = condition()
        if result:
            return result
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with status {process.returncode} while waiting "
                f"for {what}; its log:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"jupyter lab: gave up waiting for {what}; its log:\n"
                f"{log_path.read_text(errors='replace')[-4000:]}"
            )
        time.sleep(0.1)


def stop_process_group(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM (JupyterLab then shuts its kernels down), wait, then SIGKILL.

    The process leads its own group (``start_new_session``), so the group
    also holds any kernel that outlived it; SIGKILL to the group ends those.
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass  # the whole group has ended
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass


# -- the browser ---------------------------------------------------------------


def launch_chromium(playwright, executable: str, user_data_dir: Path):
    """A headless Chromium context with a fresh profile in ``user_data_dir``."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=executable,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=VIEWPORT,
        timeout=30_000,
    )


# True once the current notebook's kernel is started, connected and idle. The
# status indicators alone are not enough: they can read "idle" before the
# session has its kernel, and Run All then asks "Select Kernel" instead.
KERNEL_READY_JS = """(name) => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    if (!widget || !widget.context || !widget.context.path.endsWith(name)) {
        return false;  // another tab (one the workspace restored) is in front
    }
    const context = widget && widget.sessionContext;
    const kernel = context && context.session && context.session.kernel;
    return !!kernel && context.isReady
        && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def open_notebook(page, lab: JupyterLab, name: str, *, timeout: float = 30.0) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is ready and idle.

    ``?reset`` starts from an empty workspace: no tab of an earlier test is
    restored beside it (its kernel, if it has one, keeps running).
    """
    page.goto(lab.url(f"lab/tree/{name}?reset"), timeout=timeout * 1000)
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(
        timeout=timeout * 1000
    )
    page.wait_for_function(
        KERNEL_READY_JS, arg=name, timeout=timeout * 1000, polling=100
    )
    page.locator(KERNEL_IDLE).wait_for(timeout=timeout * 1000)


# The highest execution count shown in the notebook (0 if none ran yet).
LAST_COUNT_JS = """(panelSelector) => {
    const panel = document.querySelector(panelSelector);
    const counts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .map((p) => /\\[(\\d+)\\]/.exec(p.textContent))
        .filter(Boolean).map((m) => Number(m[1]));
    return Math.max(0, ...counts);
}"""

# True when every code cell has run since ``baseline`` (its count is higher),
# or when a cell that has shows a traceback (the ones after it will not run),
# or when JupyterLab shows a dialog.
RUN_FINISHED_JS = """([panelSelector, stderrMime, baseline]) => {
    const panel = document.querySelector(panelSelector);
    if (!panel) return false;
    if (document.querySelector('.jp-Dialog')) return true;
    const cells = [...panel.querySelectorAll('.jp-CodeCell')];
    let allRan = cells.length > 0;
    for (const cell of cells) {
        const prompt = cell.querySelector('.jp-InputPrompt');
        const match = /\\[(\\d+)\\]/.exec(prompt ? prompt.textContent : '');
        if (!match || Number(match[1]) <= baseline) {
            allRan = false;
            continue;
        }
        const errors = cell.querySelectorAll(
            `.jp-OutputArea-output[data-mime-type="${stderrMime}"]`);
        if ([...errors].some((out) => /Traceback|Error/.test(out.textContent))) {
            return true;
        }
    }
    return allRan;
}"""


def run_all_cells(page, *, timeout: float = 60.0) -> None:
    """Run > Run All Cells, then wait until every code cell has run.

    Done means: each code cell's prompt shows an execution count higher than
    any before the click (so a second Run All in the same kernel waits too)
    and the kernel is idle again. It also returns as soon as a cell that ran
    shows a traceback, since the cells after it will not run; the caller's
    checks then report the error. A dialog (JupyterLab asking something)
    fails at once, with its text.
    """
    baseline = page.evaluate(LAST_COUNT_JS, NOTEBOOK)
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator('.lm-Menu .lm-Menu-item[data-command="runmenu:run-all"]').click()
    page.wait_for_function(
        RUN_FINISHED_JS,
        arg=[NOTEBOOK, STDERR_MIME, baseline],
        timeout=timeout * 1000,
        polling=100,
    )
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        raise AssertionError(f"JupyterLab asks: {dialog.first.inner_text()!r}")
    page.locator(KERNEL_IDLE).wait_for(timeout=timeout * 1000)


# Select cells first..last (indices among all cells) and run them, through
# the front end's own commands (the lab runs with expose_app_in_browser).
# Returns the highest execution count before, for CELLS_RAN_JS.
RUN_CELLS_JS = """([first, last]) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const counts = notebook.widgets
        .filter((cell) => cell.model.type === 'code')
        .map((cell) => cell.model.executionCount || 0);
    notebook.activeCellIndex = first;
    notebook.deselectAll();
    notebook.extendContiguousSelectionTo(last);
    window.jupyterapp.commands.execute('notebook:run-cell');
    return Math.max(0, ...counts);
}"""

# "error" once a code cell in first..last shows a traceback (the ones after
# it will not run), true once every one has run since ``baseline``.
CELLS_RAN_JS = """([first, last, baseline]) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    let all = true;
    for (let i = first; i <= last; i++) {
        const model = notebook.widgets[i].model;
        if (model.type !== 'code') continue;
        if (model.outputs.toJSON().some((o) => o.output_type === 'error')) {
            return 'error';
        }
        if (!(model.executionCount > baseline)) all = false;
    }
    return all;
}"""

CELL_COUNT_JS = "() => window.jupyterapp.shell.currentWidget.content.widgets.length"


def cell_index(notebook: str, cell_id: str) -> int:
    """The index of the cell with ``cell_id`` in ``notebook`` (ids are stable;
    indices move), for :func:`run_cells`."""
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    return next(i for i, cell in enumerate(cells) if cell.get("id") == cell_id)


def run_cells(page, first: int, last: int | None = None, *, timeout: float = 60.0):
    """Run the notebook's cells ``first`` to ``last`` (inclusive; indices among
    all cells, markdown too; ``last`` defaults to the last cell), as a
    learner who selects them and presses Ctrl+Enter, then wait until each
    has run and the kernel is idle. A cell that raises fails the test with
    the notebook's stderr."""
    if last is None:
        last = page.evaluate(CELL_COUNT_JS) - 1
    baseline = page.evaluate(RUN_CELLS_JS, [first, last])
    handle = page.wait_for_function(
        CELLS_RAN_JS,
        arg=[first, last, baseline],
        timeout=timeout * 1000,
        polling=100,
    )
    if handle.json_value() == "error":
        page.locator(KERNEL_IDLE).wait_for(timeout=timeout * 1000)
        errors = "\n---\n".join(stderr_outputs(page))
        raise AssertionError(f"a cell in {first}..{last} raised:\n{errors}")
    page.locator(KERNEL_IDLE).wait_for(timeout=timeout * 1000)


def output_texts(page) -> list[str]:
    """The text of every output area in the open notebook, in order."""
    return page.locator(f"{NOTEBOOK} .jp-Cell .jp-OutputArea-output").all_inner_texts()


def stderr_outputs(page) -> list[str]:
    """The text of every stderr or error output (tracebacks are stderr too)."""
    return page.locator(
        f'{NOTEBOOK} .jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]'
    ).all_inner_texts()


def clean_outputs(page) -> str:
    """The text of the notebook's outputs, once none is on stderr."""
    errors = stderr_outputs(page)
    assert not errors, "the notebook wrote to stderr:\n" + "\n---\n".join(errors)
    return "\n".join(output_texts(page))


# -- the plugin: fixtures and the failure report -----------------------------

_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, for the ``page`` fixture."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """One JupyterLab per test module, on a scratch copy of notebooks/."""
    with JupyterLab.start(tmp_path_factory.mktemp("jupyterlab")) as lab:
        yield lab


@pytest.fixture(scope="module")
def chromium_context(tmp_path_factory):
    """One headless Chromium per test module, with a fresh profile."""
    chromium = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = launch_chromium(
            playwright, chromium, tmp_path_factory.mktemp("chromium-profile")
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(request, chromium_context, jupyterlab):
    """A fresh tab; if the test fails, what it showed is saved for a look."""
    page = chromium_context.new_page()
    page.set_default_timeout(30_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        yield page
    finally:
        call = request.node.stash.get(_REPORTS, {}).get("call")
        if call is not None and call.failed:
            save_artifacts(request.node.nodeid, page, console, jupyterlab)
        page.close()


def save_artifacts(nodeid: str, page, console: list[str], lab: JupyterLab) -> None:
    """test-artifacts/<test>.png, .console.txt and .jupyterlab.log."""
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
    except Exception as exc:  # a dead page must not hide the real failure
        console.append(f"(no screenshot: {exc})")
    Path(f"{stem}.console.txt").write_text("\n".join(console) + "\n")
    Path(f"{stem}.jupyterlab.log").write_text(lab.log())


# -- a Blackjack table on the page ----------------------------------------------

CARD = re.compile(r"(A|[2-9]|10|J|Q|K)[CDHS]\Z")

# The page updates each widget of a table on its own (a hand, a button, the
# banner, the score), so after a click a test waits for the part it reads.
# True when the score's three counts add up to ``settled``.
SCORE_IS_JS = """([table, settled]) => {
    const score = document.querySelectorAll('.labkit-bj-table')[table]
        .querySelector('.labkit-bj-score .labkit-score-text');
    if (!score || score.dataset.wins === undefined) return settled === 0;
    const sum = ['wins', 'losses', 'pushes']
        .reduce((total, name) => total + Number(score.dataset[name]), 0);
    return sum === settled;
}"""


class BlackjackPage:
    """The ``index``-th Blackjack table on the page, played by clicks.

    Every check retries until the page agrees, for up to ``timeout`` seconds
    (Playwright's ``expect``).
    """

    def __init__(self, page, index: int = 0, *, timeout: float = 10.0) -> None:
        from playwright.sync_api import expect

        self.page, self.index, self.timeout = page, index, timeout
        self.expect = lambda locator: expect(locator)
        expect.set_options(timeout=timeout * 1000)
        self.root = page.locator(".labkit-bj-table").nth(index)
        self.dealer = self.root.locator(".labkit-bj-dealer")
        self.player = self.root.locator(".labkit-bj-player")
        self.result = self.root.locator(".labkit-bj-result")
        self.deal = self.root.locator("button.labkit-bj-deal")
        self.hit = self.root.locator("button.labkit-bj-hit")
        self.stand = self.root.locator("button.labkit-bj-stand")
        self.reconnect = self.root.locator("button.labkit-bj-reconnect")
        self.message = self.root.locator(".labkit-bj-message .labkit-message")

    # -- reading the page ------------------------------------------------------

    @staticmethod
    def cards(area) -> list[str]:
        return [
            c.get_attribute("data-card") for c in area.locator(".labkit-card").all()
        ]

    def round(self) -> int:
        return int(self.player.locator(".labkit-hand").get_attribute("data-round"))

    def settled(self) -> int:
        """Rounds the score counts (on this connection)."""
        score = self.root.locator(".labkit-bj-score .labkit-score-text")
        if score.get_attribute("data-wins") is None:
            return 0
        names = ("data-wins", "data-losses", "data-pushes")
        return sum(int(score.get_attribute(name)) for name in names)

    def wait_for_score(self, settled: int) -> None:
        self.page.wait_for_function(
            SCORE_IS_JS, arg=[self.index, settled], timeout=self.timeout * 1000
        )

    def total_of(self, area, count: int) -> int:
        """Wait for ``count`` face-up cards in ``area``; check and return the
        total the page shows against the rules' total of those cards."""
        from labkit.blackjack import Card, hand_total

        faces = area.locator('.labkit-card:not([data-card="??"])')
        self.expect(faces).to_have_count(count)
        cards = self.cards(area)
        assert all(CARD.match(card) for card in cards if card != "??"), cards
        total = hand_total(Card.parse(card) for card in cards if card != "??")
        self.expect(area.locator(".labkit-hand-total")).to_have_attribute(
            "data-total", str(total)
        )
        return total

    # -- playing -----------------------------------------------------------------

    def reconnect_after(self, click, says: str) -> None:
        """``click`` meets a server that is gone: the table says ``says`` (its
        one step), and a click on Reconnect brings it back, ready to deal."""
        click.click()
        self.expect(self.message).to_contain_text(says)
        for button in (self.deal, self.hit, self.stand):
            self.expect(button).to_be_disabled()
        self.reconnect.click()
        self.expect(self.message).to_have_count(0)
        self.expect(self.deal).to_be_enabled()

    def play_round(self, *, stand_on: int = 17) -> str:
        """Deal, Hit below ``stand_on``, Stand; check every step against the
        rules (cards, totals, the hidden card, the dealer's draws, the result
        and the score); return the outcome."""
        from labkit.blackjack import settle

        expect = self.expect
        expect(self.deal).to_be_enabled()
        settled, number = self.settled(), self.round() + 1
        self.deal.click()
        expect(self.player.locator(".labkit-hand")).to_have_attribute(
            "data-round", str(number)
        )
        cards = 2
        while True:
            total = self.total_of(self.player, cards)
            if total >= 21:  # over 21 loses at once; at 21 the player stands
                break
            # in play: the dealer shows one card, the other face down
            expect(self.dealer.locator(".labkit-card")).to_have_count(2)
            expect(self.dealer.locator(".labkit-card").nth(1)).to_have_attribute(
                "data-card", "??"
            )
            assert self.dealer.locator(".labkit-hand-total").get_attribute(
                "data-total"
            ) in ("?", None)
            expect(self.result).to_have_count(0)
            expect(self.deal).to_be_disabled()
            expect(self.stand).to_be_enabled()
            expect(self.hit).to_be_enabled()
            if total >= stand_on:
                self.stand.click()
                break
            self.hit.click()
            cards += 1

        expect(self.result).to_have_attribute("data-round", str(number))
        outcome = self.result.get_attribute("data-outcome")
        if total > 21:
            assert outcome == "LOSE", f"a bust ({total}) must lose, not {outcome}"
        else:
            expect(self.dealer.locator(".labkit-hand")).to_have_attribute(
                "data-round", str(number)
            )
            expect(self.dealer.locator('.labkit-card[data-card="??"]')).to_have_count(0)
            dealer_cards = self.cards(self.dealer)
            dealer_total = self.total_of(self.dealer, len(dealer_cards))
            assert dealer_total >= 17, f"the dealer stopped below 17: {dealer_cards}"
            without_last = dealer_cards[:-1]
            if len(dealer_cards) > 2:  # it drew the last card below 17
                from labkit.blackjack import Card, hand_total

                before = hand_total(Card.parse(card) for card in without_last)
                assert before < 17, f"the dealer drew on {before}: {dealer_cards}"
            expected = settle(total, dealer_total).outcome
            assert outcome == expected, (
                f"{outcome} for {total} against {dealer_total}: {dealer_cards}"
            )
        expect(self.deal).to_be_enabled()
        expect(self.hit).to_be_disabled()
        expect(self.stand).to_be_disabled()
        self.wait_for_score(settled + 1)
        return outcome
