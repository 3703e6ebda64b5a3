"""Helpers the tests share: programs CI must have, waits, leak counts, a CLI server.

Plain functions and classes, imported by name; the fixtures that use them are
in conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

# .ci/run sets this: there a missing program is a failure, not a skip.
REQUIRED = os.environ.get("LABKIT_REQUIRE_ALL") == "1"


def free_port() -> int:
    """A port nothing listens on at this moment, for a program that needs one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
