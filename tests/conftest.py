"""Shared fixtures: servers that always stop, programs CI must have, leak checks."""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time

import pytest
import reliability

import labkit

# .ci/run sets this: there a missing program is a failure, not a skip.
REQUIRED = os.environ.get("LABKIT_REQUIRE_ALL") == "1"


def pytest_sessionfinish(session, exitstatus) -> None:
    path = os.environ.get("LABKIT_RELIABILITY_REPORT")
    if path and reliability.rows:
        reliability.write(path, passed=exitstatus == 0)


def require_program(name: str) -> str:
    """The path of ``name``; skip the test (fail it in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install {name})"
        if REQUIRED:
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    return path


def labkit_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("labkit-"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def wait_until(condition, timeout: float = 5.0, interval: float = 0.01) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.fixture
def start():
    """start(service, transport, **options): a running server, stopped after."""
    servers = []

    def start_server(service="echo", transport="threaded", **options):
        server = labkit.make_server(service, transport, **options).start()
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        assert server.stop(), f"{server!r} did not stop within 2 s"


@functools.cache
def warm_up_twisted() -> None:
    """Twisted's reactor opens descriptors of its own, once, for the process's
    life: on its first use and on its first port. Count them out."""
    labkit.make_server("echo", "twisted").start().stop()


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves labkit threads or file descriptors behind."""
    warm_up_twisted()
    threads, fds = labkit_threads(), open_fds()
    yield
    assert wait_until(lambda: labkit_threads() == threads), (
        f"labkit threads left: {labkit_threads()}"
    )
    assert wait_until(lambda: open_fds() <= fds), (
        f"file descriptors: {fds} before, {open_fds()} after"
    )


class ServeProcess:
    """``python -m labkit serve ...`` in a subprocess, stopped on exit.

    ``host`` and ``port`` come from its first line, ``listening on HOST:PORT``.
    """

    def __init__(
        self, *args: str, timeout: float = 10.0, prefix: tuple[str, ...] = ()
    ) -> None:
        import select
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "labkit", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.stop()
            raise TimeoutError(f"labkit serve {args} did not start in {timeout} s")
        self.first_line = self.proc.stdout.readline().rstrip("\n")
        address = self.first_line.removeprefix("listening on ")
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)

    def stop(self, signum: int | None = None) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signum or signal.SIGTERM)
        try:
            return self.proc.wait(5)
        except Exception:
            self.proc.kill()
            raise

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
