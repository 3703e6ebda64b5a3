"""labkit works installed, not only from its checkout.

The suite otherwise runs the editable install, which reads every file from
the checkout, so a file the wheel leaves out, or a path found relative to
the checkout, passes there and fails for a user who ran ``pip install .``.
Here a copy of the repository is built and installed into a folder that
shadows the editable install (``PYTHONPATH``), and the command line runs
from a folder outside any checkout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from support import REQUIRED

ROOT = Path(__file__).resolve().parents[1]
# What a build reads from the checkout; the rest (a .venv, caches, earlier
# builds) is left out so the copy is small and the checkout stays untouched.
LEFT_OUT = shutil.ignore_patterns(
    ".*", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts"
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the benchmark uses epoll (Linux)"
)


def can_build_offline() -> bool:
    """Whether this setuptools makes wheels itself (70.1+, or with ``wheel``)."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    except Exception:  # not installed, or a version we cannot read
        return False
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, str]:
    """The environment of a process that imports labkit from a real install."""
    top = tmp_path_factory.mktemp("install")
    source, target = top / "source", top / "site"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--target"]
    command += [str(target), str(source), "--quiet"]
    if can_build_offline():
        command += ["--no-build-isolation", "--no-index"]
    # else pip builds in an isolated environment, with setuptools from the index
    built = subprocess.run(command, capture_output=True, text=True, timeout=240)
    if built.returncode != 0:
        message = f"pip could not build labkit: {built.stderr.strip()[-600:]}"
        if REQUIRED or can_build_offline():
            pytest.fail(message, pytrace=False)
        pytest.skip(message + " (offline? CI requires this test)")
    return {**os.environ, "PYTHONPATH": str(target)}


@pytest.mark.timeout(300)
def test_the_installed_copy_is_imported_and_ships_the_baselines(
    installed, tmp_path
) -> None:
    code = (
        "import labkit, labkit.bench.servers as s; print(labkit.__file__, s.BASELINES)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=installed,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    module, baselines = (Path(path) for path in done.stdout.split())
    site = Path(installed["PYTHONPATH"])
    assert module.is_relative_to(site), f"{module} is not the installed copy"
    assert baselines.is_relative_to(site)
    assert sorted(path.name for path in baselines.glob("*_echo.py")) == [
        "asyncio_echo.py",
        "socat_echo.py",
        "socketserver_echo.py",
        "twisted_echo.py",
    ]


@pytest.mark.timeout(300)
def test_installed_serve_echoes_and_stops_on_sigterm(installed, tmp_path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "labkit", "serve", "echo"],
        env=installed,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([server.stdout], [], [], 30)
        first = server.stdout.readline().strip() if ready else ""
        assert first.startswith("listening on "), (first, server.stderr)
        host, _, port = first.removeprefix("listening on ").rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.settimeout(5)
            sock.sendall(b"hello from an installed labkit\n")
            echoed = b""
            while not echoed.endswith(b"\n"):
                chunk = sock.recv(4096)
                assert chunk, f"closed after {echoed!r}"
                echoed += chunk
        assert echoed == b"hello from an installed labkit\n"
        server.send_signal(signal.SIGTERM)
        assert server.wait(10) == 0, server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(5)
        server.stdout.close()
        server.stderr.close()


@pytest.mark.timeout(300)
def test_installed_bench_runs_a_baseline_and_writes_here(installed, tmp_path) -> None:
    # A labkit transport against its bare baseline, in seconds: the baseline
    # is found in the installed package, and the results land under the
    # current directory (no checkout around).
    only = "asyncio,bare-asyncio,echo"
    args = ["bench", "--quick", "--only", only, "--connections", "2"]
    args += ["--duration", "0.3", "--warmup", "0.1"]
    done = subprocess.run(
        [sys.executable, "-m", "labkit", *args],
        env=installed,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = tmp_path / "benchmarks" / "results"
    assert (out / "quick.png").stat().st_size > 0
    results = json.loads((out / "quick.json").read_text())
    assert results["skipped"] == []
    rows = {row["server"]: row for row in results["rows"]}
    assert set(rows) == {"asyncio", "bare-asyncio"}
    assert all(row["answered_all"] and not row["errors"] for row in rows.values())
    [ratio] = results["ratios"]
    assert (ratio["server"], ratio["counterpart"]) == ("asyncio", "bare-asyncio")
