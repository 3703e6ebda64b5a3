"""The servers under test, each a subprocess that prints ``listening on``.

Every server is measured the same way: started as its own process (so its
CPU time and memory are its own), pinned to one core, told nothing about
the benchmark, and stopped with SIGTERM (then SIGKILL) at the end of its
run. labkit's transports run as ``python -m labkit serve``; the bare
baselines are short scripts in :mod:`labkit.bench.baselines`, written the way
a user would write them without labkit, and run by their path.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..transports import TRANSPORTS

START_TIMEOUT = 20.0  # Twisted on a busy machine takes a few seconds to import
STOP_TIMEOUT = 10.0
# 1,000 players fit; every load connection comes from 127.0.0.1, so the
# limit per address that `serve` sets for a class is as high as the total.
SERVE = ("serve", "{service}", "--max-connections", "5000", "--max-per-peer", "5000")
BASELINES = Path(__file__).resolve().parent / "baselines"
# The load client sends echo and blackjack; push (lines a server sends to
# idle connections unasked) is measured by :mod:`.push`, and players at
# shared tables by :mod:`.tables`.
WORKLOADS = ("echo", "blackjack", "push", "tables")


@dataclass(frozen=True)
class ServerSpec:
    name: str
    command: tuple[str, ...]  # without the port options
    kind: str  # "labkit" or "bare"
    workloads: tuple[str, ...]  # "echo", "blackjack"
    counterpart: str | None = None  # the bare server to compare it with
    tree: bool = False  # forks per connection: measure the process tree
    max_connections: int | None = None  # serves no more at once, or None


def _labkit(
    transport: str,
    counterpart: str | None,
    workloads: tuple[str, ...] = WORKLOADS,
    **extra,
) -> ServerSpec:
    return ServerSpec(
        name=transport,
        command=(sys.executable, "-m", "labkit", *SERVE, "--transport", transport),
        kind="labkit",
        workloads=workloads,
        counterpart=counterpart,
        **extra,
    )


def _baseline(name: str, script: str, **extra) -> ServerSpec:
    return ServerSpec(
        name=name,
        command=(sys.executable, str(BASELINES / script)),
        kind="bare",
        workloads=("echo",),
        **extra,
    )


# In the order of the lecture, then the bare servers; the counterpart of
# each labkit transport is the plain code it stands in for.
SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        _labkit("threaded", "bare-socketserver"),
        # One client at a time: with more connections the others wait for
        # the first to close, which a closed-loop client never does; and no
        # idle connections to push to.
        _labkit("iterative", None, ("echo", "blackjack"), max_connections=1),
        _labkit("socketserver", "bare-socketserver"),
        _labkit("selectors", "bare-asyncio"),
        _labkit("asyncio", "bare-asyncio"),
        _labkit("twisted", "bare-twisted"),
        _baseline("bare-socketserver", "socketserver_echo.py"),
        _baseline("bare-asyncio", "asyncio_echo.py"),
        _baseline("bare-twisted", "twisted_echo.py"),
        _baseline("socat", "socat_echo.py", tree=True),
    )
}
assert set(TRANSPORTS) <= set(SERVERS), "a labkit transport is not benchmarked"


def missing(spec: ServerSpec) -> str | None:
    """Why ``spec`` cannot run on this machine, or None."""
    if spec.name == "socat" and shutil.which("socat") is None:
        return "socat is not installed (apt-get install socat)"
    return None


class ServerProcess:
    """A running server; ``stop()`` (or the context manager) always ends it."""

    def __init__(
        self,
        spec: ServerSpec,
        service: str,
        cpu: int | None = None,
        *,
        stdin_pipe: bool = False,
    ) -> None:
        """Start ``spec``; ``stdin_pipe`` gives it a pipe to be told things on."""
        self.spec = spec
        command = [part.format(service=service) for part in spec.command]
        # A file, not a pipe: a server that writes much there never blocks.
        self.stderr = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if stdin_pipe else None,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            # Pinned before it runs, so every thread it starts inherits the
            # core; its own session, so stop() can end a whole process tree.
            preexec_fn=None if cpu is None else lambda: os.sched_setaffinity(0, {cpu}),
            start_new_session=True,
        )
        try:
            self.host, self.port = self._wait_listening()
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_listening(self) -> tuple[str, int]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line.startswith("listening on "):
            self.stderr.seek(0)
            error = self.stderr.read()
            raise RuntimeError(
                f"{self.spec.name} did not start within {START_TIMEOUT:g} s"
                + (f": {error.strip()[-300:]}" if error else "")
            )
        host, _, port = line.removeprefix("listening on ").rpartition(":")
        return host.strip("[]"), int(port)

    def stop(self) -> int | None:
        """SIGTERM to the whole group, wait, then SIGKILL; the exit status."""
        status = None
        for signum in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.returncode is None:  # not reaped: its pid is still ours
                try:
                    os.killpg(self.proc.pid, signum)  # forked children too
                except ProcessLookupError:
                    pass
            try:
                status = self.proc.wait(STOP_TIMEOUT)
                break
            except subprocess.TimeoutExpired:
                continue
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(BrokenPipeError):  # stdin: the pipe
                    stream.close()
        return status

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_load_client(command: list[str], budget: float, cpu: int | None) -> dict:
    """Run a load client (pinned to ``cpu``); what its last line says, as JSON."""
    client = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=budget,
        preexec_fn=None if cpu is None else lambda: os.sched_setaffinity(0, {cpu}),
    )
    try:
        return json.loads(client.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"the load client failed: {client.stderr.strip()[-300:]}"}
