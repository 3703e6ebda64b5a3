"""A real JupyterLab in headless Chromium, for the browser tests.

The pieces, each usable alone:

- ``JupyterLab.start(workdir)``: ``jupyter lab`` from this venv on a free port
  with a random token, serving a scratch copy of ``notebooks/`` with the
  stored outputs removed (so whatever the page shows was computed now, and
  the browser never saves into the repository). The user's own Jupyter
  config, settings, workspaces, user-level data dir and IPython profile are
  replaced by empty scratch ones; the venv's labextensions and kernelspecs
  (under ``sys.prefix``) stay visible, so ipywidgets still render.
- ``launch_chromium(playwright, ...)``: Debian's chromium through Playwright,
  headless, offline-friendly, with a fresh profile.
- ``open_notebook``, ``run_all_cells``, ``output_texts``, ``stderr_outputs``:
  what a test does on the page, waiting on JupyterLab's own state (the
  kernel status indicator, the cells' execution prompts), never on a sleep.
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
    def start(cls, workdir: Path, *, timeout: float = 60.0):
        """Start JupyterLab in ``workdir`` (scratch); stop it on exit."""
        root = workdir / "notebooks"
        root.mkdir(parents=True)
        for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
            strip_outputs(notebook, root / notebook.name)
        for other in NOTEBOOKS.iterdir():
            if other.is_file() and other.suffix != ".ipynb":
                shutil.copy2(other, root / other.name)

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
                lambda: _answers(lab.url("api/status")),
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


def _answers(url: str) -> bool:
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
KERNEL_READY_JS = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const context = widget && widget.sessionContext;
    const kernel = context && context.session && context.session.kernel;
    return !!kernel && context.isReady
        && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def open_notebook(page, lab: JupyterLab, name: str, *, timeout: float = 30.0) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is ready and idle."""
    page.goto(lab.url(f"lab/tree/{name}"), timeout=timeout * 1000)
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(
        timeout=timeout * 1000
    )
    page.wait_for_function(KERNEL_READY_JS, timeout=timeout * 1000, polling=100)
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


def output_texts(page) -> list[str]:
    """The text of every output area in the open notebook, in order."""
    return page.locator(f"{NOTEBOOK} .jp-Cell .jp-OutputArea-output").all_inner_texts()


def stderr_outputs(page) -> list[str]:
    """The text of every stderr or error output (tracebacks are stderr too)."""
    return page.locator(
        f'{NOTEBOOK} .jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]'
    ).all_inner_texts()


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
