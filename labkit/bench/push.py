"""Push latency: from ``session.push`` on the server to the line's receipt.

    python -m labkit.bench.push serve TRANSPORT N [--timeout S]

A shared table tells every player the others' moves: the server pushes one
line to each of its connections, unasked. This measures how long that line
takes to arrive, on each transport, with N idle connections open.

- The server (:func:`serve`, its own process, pinned to one core) runs the
  echo service and prints ``listening on HOST:PORT``, then ``open N`` once
  N connections are open. For each ``push`` line on its standard input it
  reads the clock (``time.monotonic_ns``), pushes ``PUSH <that time>`` to
  every connection and prints ``pushed <that time> <connections>``.
- The client (:func:`measure`, in the calling process, pinned to another
  core) opens the N connections, asks for one push at a time and reads
  every connection until each has its line. CLOCK_MONOTONIC is one clock
  for every process on Linux, so the receipt time minus the stamp in the
  line is the delay from the push to the receipt.

The stamp is read once per push, before the first connection is pushed to,
as a table that broadcasts a move would: a connection late in the server's
loop waits for the ones before it, and the last receipt of each push is
what the whole table waits for. One push at a time (the next once every
line of this one is in), so this measures latency, not throughput. Any
line missing, late (past the timeout) or wrong fails the run. Linux only.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from .. import Limits, make_server
from ..addresses import format_address
from .load_client import percentile
from .servers import STOP_TIMEOUT, ServerProcess, ServerSpec

RECV_SIZE = 4096
GAP = 0.01  # seconds between pushes: each finds the server idle, as moves do
SPARE_FILES = 64  # descriptors beyond the connections: listener, pipes, imports


class PushError(Exception):
    """A pushed line missing, late or wrong: the run does not count."""


def raise_open_files_limit(connections: int) -> None:
    """Let this process hold ``connections`` sockets (soft limit up to the hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- the server ---------------------------------------------------------------


def serve(transport: str, connections: int, timeout: float) -> int:
    """Serve echo on ``transport``; push to all connections when told; the status.

    Exits 1 if the connections do not come within ``timeout`` seconds, if
    nothing is asked for three times that long (the client waits ``timeout``
    for a push's lines and says first what is missing), or if the server
    recorded a failure.
    """
    raise_open_files_limit(connections)
    limits = Limits(max_connections=connections + 16)
    server = make_server("echo", transport, limits=limits).start()
    status = 0
    try:
        print(f"listening on {format_address(*server.address)}", flush=True)
        deadline = time.monotonic() + timeout
        while server.stats.open < connections:
            if time.monotonic() > deadline:
                print(
                    f"error: {server.stats.open} of {connections} connections "
                    f"open after {timeout:g} s",
                    flush=True,
                )
                return 1
            time.sleep(0.005)
        print(f"open {server.stats.open}", flush=True)
        for command in _commands(3 * timeout):
            if command != "push":
                print(f"error: unknown command {command!r}", flush=True)
                return 1
            targets = server.connections()
            stamp = time.monotonic_ns()
            line = f"PUSH {stamp}\n".encode()
            for connection in targets:
                connection.session.push(line)
            print(f"pushed {stamp} {len(targets)}", flush=True)
    except PushError as exc:
        print(f"error: {exc}", flush=True)
        status = 1
    finally:
        stopped = server.stop()
        problems = [str(error) for error in server.errors]
        problems += [] if stopped else ["threads still running after the stop"]
        for problem in problems:
            print(problem, file=sys.stderr, flush=True)
    return 1 if problems else status


def _commands(timeout: float) -> Iterator[str]:
    """Lines from standard input until it closes; PushError after ``timeout`` s idle."""
    pending = b""
    while True:
        while b"\n" not in pending:
            ready, _, _ = select.select([sys.stdin.fileno()], [], [], timeout)
            if not ready:
                raise PushError(f"told nothing for {timeout:g} s")
            chunk = os.read(sys.stdin.fileno(), 4096)
            if not chunk:
                return
            pending += chunk
        line, _, pending = pending.partition(b"\n")
        yield line.decode().strip()


# -- the client ---------------------------------------------------------------


def measure(
    transport: str,
    connections: int,
    *,
    pushes: int = 25,
    warmup: int = 5,
    timeout: float = 10.0,
    server_cpu: int | None = None,
    client_cpu: int | None = None,
) -> dict:
    """Push latency on ``transport`` with ``connections`` idle connections.

    ``warmup`` pushes first, not counted, then ``pushes`` counted ones. The
    figures, in ms: p50 and p99 over every connection and every push, and
    over the pushes of the last receipt of each (with 25 pushes its p99 is
    the slowest). ``error`` instead, if any line failed to arrive.
    """
    record: dict = dict(
        transport=transport, connections=connections, pushes=pushes, warmup=warmup
    )
    raise_open_files_limit(connections)
    spec = ServerSpec(
        name=transport,
        command=(
            sys.executable,
            "-m",
            "labkit.bench.push",
            "serve",
            transport,
            str(connections),
            "--timeout",
            str(timeout),
        ),
        kind="labkit",
        workloads=("push",),
    )
    affinity = os.sched_getaffinity(0)
    sockets: list[socket.socket] = []
    server = None
    try:
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        server = ServerProcess(spec, "echo", server_cpu, stdin_pipe=True)
        for _ in range(connections):
            sock = socket.create_connection((server.host, server.port), timeout)
            sock.setblocking(False)
            sockets.append(sock)
        reply = _read_line(server, timeout + 5)  # the server waits `timeout`
        if reply != f"open {connections}":
            raise PushError(f"the server said {reply!r}, not 'open {connections}'")
        delays, lasts = _push_and_receive(server, sockets, warmup, pushes, timeout)
        status = _stop(server)
    except (OSError, PushError, RuntimeError) as exc:
        return record | {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        for sock in sockets:
            sock.close()
        if server is not None:
            server.stop()
        os.sched_setaffinity(0, affinity)
    ordered, slowest = sorted(delays), sorted(lasts)
    return record | {
        "p50_ms": percentile(ordered, 0.50) / 1e6,
        "p99_ms": percentile(ordered, 0.99) / 1e6,
        "p50_last_ms": percentile(slowest, 0.50) / 1e6,
        "p99_last_ms": percentile(slowest, 0.99) / 1e6,
        "lines": connections * (warmup + pushes),  # each checked on arrival
        "server_exit_status": status,
    }


def _push_and_receive(
    server: ServerProcess,
    sockets: list[socket.socket],
    warmup: int,
    pushes: int,
    timeout: float,
) -> tuple[list[int], list[int]]:
    """Every counted delay (ns), and the last receipt's delay of each push."""
    by_fd = {sock.fileno(): sock for sock in sockets}
    poller = select.epoll()
    delays: list[int] = []
    lasts: list[int] = []
    try:
        for fd in by_fd:
            poller.register(fd, select.EPOLLIN)
        for number in range(1, warmup + pushes + 1):
            time.sleep(GAP)
            assert server.proc.stdin is not None
            server.proc.stdin.write("push\n")
            server.proc.stdin.flush()
            received = receive_one_line_each(poller, by_fd, timeout)
            stamp = _stamp_of(_read_line(server, timeout), len(sockets))
            expected = f"PUSH {stamp}\n".encode()
            wrong = [line for _, line in received.values() if line != expected]
            if wrong:
                raise PushError(
                    f"push {number}: {len(wrong)} connections got {wrong[0]!r}, "
                    f"not {expected!r}"
                )
            if number > warmup:
                these = [at - stamp for at, _ in received.values()]
                delays.extend(these)
                lasts.append(max(these))
    finally:
        poller.close()
    return delays, lasts


def receive_one_line_each(
    poller: select.epoll, sockets: dict[int, socket.socket], timeout: float
) -> dict[int, tuple[int, bytes]]:
    """Read until every socket has one whole line: {fd: (receipt ns, line)}.

    The receipt time is the clock when epoll reports the data, before any of
    it is read: reading the other sockets of that batch is the client's
    time, not the server's. PushError if a socket has no whole line within
    ``timeout`` seconds, gets more than one line, or is closed.
    """
    lines: dict[int, tuple[int, bytes]] = {}
    partial: dict[int, bytes] = {}
    deadline = time.monotonic() + timeout
    while len(lines) < len(sockets):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PushError(
                f"{len(sockets) - len(lines)} of {len(sockets)} connections had "
                f"no whole line after {timeout:g} s"
            )
        events = poller.poll(remaining)
        now = time.monotonic_ns()
        for fd, _ in events:
            try:
                data = sockets[fd].recv(RECV_SIZE)
            except BlockingIOError:
                continue
            if not data:
                raise PushError("the server closed a connection")
            data = partial.pop(fd, b"") + data
            if fd in lines or b"\n" in data[:-1]:
                raise PushError(f"more than one line for one push: {data!r}")
            if data.endswith(b"\n"):
                lines[fd] = (now, data)
            else:
                partial[fd] = data
    return lines


def _read_line(server: ServerProcess, timeout: float) -> str:
    """The server's next line on its standard output, within ``timeout`` s."""
    stdout = server.proc.stdout
    assert stdout is not None
    ready, _, _ = select.select([stdout], [], [], timeout)
    line = stdout.readline() if ready else ""
    if not line:
        raise PushError(f"the server said nothing for {timeout:g} s{_why(server)}")
    return line.strip()


def _stamp_of(reply: str, connections: int) -> int:
    """The stamp of ``pushed STAMP COUNT``, once COUNT is every connection."""
    word, _, rest = reply.partition(" ")
    stamp, _, count = rest.partition(" ")
    if word != "pushed" or not stamp.isdigit() or count != str(connections):
        raise PushError(f"the server said {reply!r}, not 'pushed STAMP {connections}'")
    return int(stamp)


def _stop(server: ServerProcess) -> int:
    """Close the server's input, so it stops by itself; its exit status."""
    assert server.proc.stdin is not None
    server.proc.stdin.close()
    try:
        status = server.proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise PushError(f"the server did not stop within {STOP_TIMEOUT:g} s") from None
    if status != 0:
        raise PushError(f"the server exited with status {status}{_why(server)}")
    return status


def _why(server: ServerProcess) -> str:
    """The end of what the server wrote on standard error, if anything."""
    server.stderr.seek(0)
    error = server.stderr.read().strip()
    return f": {error[-300:]}" if error else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="the server side, told on stdin")
    serving.add_argument("transport")
    serving.add_argument("connections", type=int)
    serving.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    return serve(args.transport, args.connections, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
