"""``make lab`` on a fresh clone, used as a learner uses it.

A clone of this repository (its last commit), ``make lab`` as the README says
(with this venv, so nothing is installed again), then every notebook opened
in headless Chromium, its outputs cleared, run with Run > Run All Cells and
saved. The learner's
work lands in the git-ignored working copies: afterwards ``git status`` shows
no change to a tracked file, though every copy was saved. The server asks for
its token, too. Needs Debian's chromium (skipped without it, required in CI).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.register_assert_rewrite("browser_support")

from browser_support import (  # noqa: E402
    ARTIFACTS,
    USER_ENV,
    answers,
    launch_chromium,
    open_notebook,
    run_all_cells,
    stderr_outputs,
    stop_process_group,
)
from support import free_port, require_program  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parent.parent
TOKEN_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=([0-9a-f]+)")
# The front end's own commands, on the notebook in view. The stored outputs
# are cleared first, so that what is saved was computed in this run (and
# run_all_cells can tell fresh execution counts from stored ones).
CLEAR_OUTPUTS_JS = """() => window.jupyterapp.commands.execute(
    'notebook:clear-all-cell-outputs')"""
SAVE_JS = "() => window.jupyterapp.commands.execute('docmanager:save')"


@dataclass
class MadeLab:
    """What ``make lab`` printed: enough for browser_support's open_notebook."""

    base_url: str
    token: str

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"


def wait_for_lab(log: Path, process: subprocess.Popen, timeout: float) -> MadeLab:
    """The lab at the URL ``make lab`` printed, once it answers there.

    Jupyter Server prints its URLs before its event loop binds the port, so
    the URL in the log alone does not mean a request would be taken.
    """
    deadline = time.monotonic() + timeout
    lab = None
    while time.monotonic() < deadline:
        if lab is None and (match := TOKEN_URL.search(log.read_text(errors="replace"))):
            lab = MadeLab(f"http://127.0.0.1:{match[1]}/", match[2])
        if lab is not None and answers(lab.url("api/status")):
            return lab
        if process.poll() is not None:
            break
        time.sleep(0.1)
    said = "a URL that never answered" if lab else "no URL with a token"
    raise AssertionError(f"make lab printed {said}:\n{log.read_text()}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_until_saved(path: Path, since: float, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while path.stat().st_mtime <= since:
        assert time.monotonic() < deadline, f"{path.name} was not saved"
        time.sleep(0.1)


def run_and_save(page, lab: MadeLab, copy: Path, since: float) -> None:
    open_notebook(page, lab, copy.name)
    page.evaluate(CLEAR_OUTPUTS_JS)
    run_all_cells(page, timeout=240)
    errors = stderr_outputs(page)
    assert not errors, f"{copy.name} wrote to stderr:\n{errors}"
    page.evaluate(SAVE_JS)
    wait_until_saved(copy, since)


def test_a_learners_saved_runs_never_change_the_tracked_files(tmp_path):
    chromium = require_program("chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    clone = tmp_path / "labkit"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(clone)], check=True, timeout=60
    )
    venv = Path(sys.prefix)
    env = {k: v for k, v in os.environ.items() if k not in USER_ENV}
    env.update(  # the user's own Jupyter files stay out of it
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    command = [
        "make",
        "lab",
        f"VENV={venv}",
        f"-o{venv}/.installed-from-pyproject",  # installed already: not again
        f"JUPYTER_PORT={free_port()}",
        # window.jupyterapp: lets the test ask whether the kernel is ready
        "LAB_ARGS=--LabApp.expose_app_in_browser=True",
    ]
    log = tmp_path / "make-lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        lab = wait_for_lab(log, process, timeout=60)
        assert http_status(lab.base_url + "api/contents") == 403  # the token is on
        assert http_status(lab.url("api/contents")) == 200
        copies = sorted((clone / "my-notebooks").glob("*.ipynb"))
        originals = sorted((clone / "notebooks").glob("*.ipynb"))
        assert [c.name for c in copies] == [o.name for o in originals]
        started = time.time()
        with sync_api.sync_playwright() as playwright:
            context = launch_chromium(playwright, chromium, tmp_path / "profile")
            try:
                page = context.new_page()
                page.set_default_timeout(30_000)
                for copy in copies:
                    try:
                        run_and_save(page, lab, copy, started)
                    except Exception as exc:
                        ARTIFACTS.mkdir(exist_ok=True)
                        shot = ARTIFACTS / f"make-lab-{copy.stem}.png"
                        page.screenshot(path=shot, full_page=True)
                        raise AssertionError(
                            f"{copy.name} (screenshot: {shot}):\n{exc}\n"
                            f"make lab's log:\n{log.read_text()[-3000:]}"
                        ) from exc
            finally:
                context.close()
    finally:
        stop_process_group(process)

    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert status.stdout == "", (
        f"the learner's runs changed tracked files:\n{status.stdout}"
    )
