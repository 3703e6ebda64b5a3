"""The README's set-up without `make` works: plain pip, in a fresh venv.

A copy of the repository gets a new virtual environment and the README's own
commands (read from its "No `make`" section, so the two cannot drift apart),
then runs a few tests inside it: the platform fallbacks and a notebook under
nbval, which need psutil, pytest's plugins and a Jupyter kernel from that
venv alone. About a minute and a half, nearly all of it pip.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import REQUIRED

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = shutil.ignore_patterns(
    ".*", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts"
)
SUBSET = ["tests/test_platforms.py", "notebooks/01-sockets.ipynb"]


def readme_commands() -> list[str]:
    """The indented commands under the README's "No `make`." paragraph."""
    text = (ROOT / "README.md").read_text()
    after = text.split("**No `make`.**", 1)[1]
    block = re.search(r"\n\n((?:    .+\n)+)", after)
    assert block, "no commands under the README's No `make` paragraph"
    return [line.strip() for line in block.group(1).splitlines()]


def test_the_readme_shows_venv_pip_and_jupyter() -> None:
    commands = readme_commands()
    assert commands[0] == "python -m venv .venv", commands
    assert any(c.startswith("python -m pip install -e ") for c in commands)
    assert commands[-1] == "jupyter lab notebooks/", commands


@pytest.mark.timeout(480)
def test_a_fresh_venv_set_up_as_the_readme_says_passes_tests(tmp_path) -> None:
    source = tmp_path / "labkit"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    bin_dir = source / ".venv" / ("Scripts" if os.name == "nt" else "bin")
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    # What `activate` does: the venv's programs first on the PATH.
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(source / ".venv")
    env["PIP_NO_COMPILE"] = "1"  # .pyc files come on first import: pip is faster

    for command in readme_commands():
        words = shlex.split(command)
        if words[0] in ("source", "jupyter"):
            continue  # activating is the env above; JupyterLab would not return
        assert words[0] == "python", command
        # The venv itself is made by the Python running the tests.
        python = sys.executable if words[1:3] == ["-m", "venv"] else bin_dir / "python"
        done = subprocess.run(
            [str(python), *words[1:]],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            message = f"{command!r} failed: {done.stderr.strip()[-800:]}"
            if REQUIRED or "pip" not in words:
                pytest.fail(message, pytrace=False)
            pytest.skip(message + " (offline? CI requires this test)")

    python = bin_dir / "python"
    outside = tmp_path / "elsewhere"  # no labkit folder to import by accident
    outside.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import labkit, psutil; print(labkit.__file__)"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(source), where.stdout

    tested = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval"]
        + ["--nbval-sanitize-with", "notebooks/sanitize.cfg", *SUBSET],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert " passed" in tested.stdout and " skipped" not in tested.stdout, (
        tested.stdout[-2000:]
    )
