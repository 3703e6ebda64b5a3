"""The load client: closed-loop connections on one epoll loop, one process.

    python -m labkit.bench.load_client echo|blackjack --port P --connections N
                                [--duration S] [--warmup S] [--server-pid PID]
                                [--against PORT [--against-pid PID]]

Every connection has exactly one request in flight: it sends, waits for the
whole answer, records the latency and sends again ("closed loop"), so the
rate measured is the rate the server answers at, not a rate we impose.

- echo: a request is 1 KiB of bytes; its answer is the same 1 KiB back;
- blackjack: a request is a round, DEAL then STAND whenever a TURN comes,
  until the SCORE line that closes the round.

One thread and one epoll loop drive every connection, so a thousand of them
cost this process a dict entry each, and the client stays cheaper than the
servers it measures. It reads the server's CPU time and memory (through
psutil) at the edges of the measured window itself, so the figures cover
exactly the requests it counts. The result is one JSON object on standard output.
Linux only (epoll). Every wait has a timeout.

With ``--against``, it loads two servers in turns instead and compares
them (see :func:`take_turns`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import select
import socket
import sys
import time
from dataclasses import dataclass, field

from . import processes

RECV_SIZE = 65536
BATCH = 50  # connections opened before their greetings are read: < backlog
TURN = 0.25  # seconds measured per turn when two servers take turns
SETTLE = 0.05  # seconds at the start of a turn not counted: the server wakes


class LoadError(Exception):
    """A wrong, missing or late answer: the run does not count."""


@dataclass
class Spec:
    workload: str  # "echo" or "blackjack"
    port: int
    connections: int
    duration: float = 3.0
    warmup: float = 0.5
    size: int = 1024
    host: str = "127.0.0.1"
    server_pid: int | None = None
    server_tree: bool = False  # sum CPU and memory over the server's children
    timeout: float = 10.0  # for any one answer, and for connecting


class EchoConnection:
    """One 1 KiB request at a time; done when all of it has come back."""

    greeting = None

    def __init__(self, sock: socket.socket, payload: bytes) -> None:
        self.sock, self.payload = sock, payload
        self.got = bytearray()
        self.started = 0  # perf_counter_ns() when the request was sent

    def begin(self) -> None:
        send_whole(self.sock, self.payload)

    def feed(self, data: bytes) -> bool:
        if not self.got and data == self.payload:
            return True  # the usual case: it all came back in one piece
        self.got += data
        if len(self.got) < len(self.payload):
            return False
        if self.got != self.payload:
            raise LoadError(f"echo sent back {len(self.got)} different bytes")
        self.got.clear()
        return True


class BlackjackConnection:
    """One round at a time: DEAL, STAND at every TURN, done at SCORE."""

    greeting = b"WELCOME "

    def __init__(self, sock: socket.socket, payload: bytes) -> None:
        self.sock = sock
        self.lines = bytearray()  # the answer so far
        self.started = 0  # perf_counter_ns() when the round began

    def begin(self) -> None:
        send_whole(self.sock, b"DEAL\r\n")

    def feed(self, data: bytes) -> bool:
        self.lines += data
        if not self.lines.endswith(b"\n"):
            return False  # in the middle of a line
        last = self.lines[self.lines.rfind(b"\n", 0, -1) + 1 :]
        if b"ERROR" in self.lines:
            raise LoadError(f"the server answered {bytes(self.lines)!r}")
        if last.startswith(b"TURN "):
            self.lines.clear()
            send_whole(self.sock, b"STAND\r\n")
            return False
        if last.startswith(b"SCORE "):
            self.lines.clear()
            return True
        return False  # HAND lines: more to come


def send_whole(sock: socket.socket, data: bytes) -> None:
    # Closed loop: the server has read everything we sent before, so our send
    # buffer is empty and a small request always fits at once.
    if sock.send(data) != len(data):
        raise LoadError("a request did not fit in an empty send buffer")


@dataclass
class Tally:
    sent: int = 0  # requests begun
    answered: int = 0  # requests whose whole answer came back
    latencies_ns: list[int] = field(default_factory=list)  # in the window


def connect_all(spec: Spec, kind: type) -> list:
    """Open every connection; each has done one exchange before we return.

    Opened in batches, each answered (greeting or one echo) before the next,
    so the listen backlog never overflows: an overflow makes the kernel
    retry the handshake a second later, which would time the backlog.
    """
    connections = []
    payload = bytes(range(256)) * (spec.size // 256) + b"x" * (spec.size % 256)
    for first in range(0, spec.connections, BATCH):
        batch = []
        for _ in range(first, min(first + BATCH, spec.connections)):
            sock = socket.create_connection((spec.host, spec.port), spec.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            batch.append(kind(sock, payload))
        for conn in batch:
            if kind.greeting is None:
                conn.begin()
                while not conn.feed(_recv(conn.sock)):
                    pass
            elif not _recv_line(conn.sock).startswith(kind.greeting):
                raise LoadError("the server did not greet with WELCOME")
            conn.sock.setblocking(False)
        connections.extend(batch)
    return connections


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(RECV_SIZE)
    if not data:
        raise LoadError("the server closed a connection")
    return data


def _recv_line(sock: socket.socket) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        line += _recv(sock)
    return line


class Window:
    """The server's CPU time and memory, and ours, at one instant."""

    def __init__(self, spec: Spec) -> None:
        self.at = time.perf_counter()
        self.own_cpu = time.process_time()
        pid, tree = spec.server_pid, spec.server_tree
        self.server_cpu = processes.cpu_seconds(pid, tree=tree) if pid else 0.0
        self.rss_kib = processes.rss_kib(pid, tree=tree) if pid else 0


def drive(spec: Spec, connections: list, tally: Tally) -> tuple[Window, Window]:
    """The closed loop itself; returns the windows at the edges of the record."""
    poller = select.epoll()
    by_fd = {conn.sock.fileno(): conn for conn in connections}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    clock = time.perf_counter_ns
    record_from = time.perf_counter() + spec.warmup
    record_until = record_from + spec.duration
    start = end = None
    latencies = tally.latencies_ns
    outstanding = len(by_fd)
    last_answer = time.perf_counter()
    try:
        for conn in connections:
            conn.started = clock()
            conn.begin()
            tally.sent += 1
        while outstanding:
            events = poller.poll(0.05)
            now_ns = clock()
            for fd, _ in events:
                conn = by_fd[fd]
                if not conn.feed(_recv(conn.sock)):
                    continue
                tally.answered += 1
                if start is not None and end is None:
                    latencies.append(now_ns - conn.started)
                if end is not None:
                    outstanding -= 1  # the window is over: this one rests
                    continue
                conn.started = clock()
                conn.begin()
                tally.sent += 1
            now = time.perf_counter()
            if events:
                last_answer = now
            elif now - last_answer > spec.timeout:
                raise LoadError(f"no answer for {spec.timeout:g} s")
            if start is None and now >= record_from:
                start = Window(spec)
            elif end is None and start is not None and now >= record_until:
                end = Window(spec)
    finally:
        poller.close()
    return start, end


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The value below which ``fraction`` of the values lie (nearest rank)."""
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[rank]


def summarize(
    spec: Spec, tally: Tally, base: Window, connected: Window, start, end
) -> dict:
    """The run's figures, as plain data for JSON."""
    latencies = sorted(tally.latencies_ns)
    ops = len(latencies)
    seconds = end.at - start.at
    server_cpu = end.server_cpu - start.server_cpu
    return {
        "workload": spec.workload,
        "connections": spec.connections,
        "unit": "request" if spec.workload == "echo" else "round",
        "seconds": seconds,
        "ops": ops,
        "throughput": ops / seconds,
        "p50_ms": percentile(latencies, 0.50) / 1e6,
        "p99_ms": percentile(latencies, 0.99) / 1e6,
        "server_cpu_s": server_cpu,
        "cpu_us_per_op": server_cpu / ops * 1e6 if ops else float("nan"),
        "server_cpu_share": server_cpu / seconds,  # 1.0: one core busy all along
        "client_cpu_share": (end.own_cpu - start.own_cpu) / seconds,
        "rss_base_kib": base.rss_kib,
        "rss_connected_kib": connected.rss_kib,
        "rss_end_kib": end.rss_kib,
        "mem_kib_per_conn": (connected.rss_kib - base.rss_kib) / spec.connections,
        "sent": tally.sent,
        "answered": tally.answered,
        "answered_all": tally.sent == tally.answered,
    }


def run(spec: Spec) -> dict:
    """Connect, warm up, measure for ``spec.duration`` seconds, drain.

    Raises LoadError (or OSError) when an answer is wrong, missing or late.
    """
    kind = {"echo": EchoConnection, "blackjack": BlackjackConnection}[spec.workload]
    base = Window(spec)
    connections = connect_all(spec, kind)
    try:
        connected = Window(spec)
        tally = Tally()
        start, end = drive(spec, connections, tally)
    finally:
        for conn in connections:
            conn.sock.close()
    return summarize(spec, tally, base, connected, start, end)


@dataclass
class Turns:
    """One server's share of a run in turns: its turns added up."""

    requests: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    rates: list[float] = field(default_factory=list)  # requests/s, per turn
    answered_all: bool = True

    def add(self, tally: Tally, start: Window, end: Window) -> None:
        requests, seconds = len(tally.latencies_ns), end.at - start.at
        self.requests += requests
        self.seconds += seconds
        self.server_cpu += end.server_cpu - start.server_cpu
        self.rates.append(requests / seconds)
        self.answered_all &= tally.sent == tally.answered

    def figures(self) -> dict:
        requests = self.requests or float("nan")  # none answered: no figure
        return {
            "throughput": self.requests / self.seconds,
            "cpu_us_per_op": self.server_cpu / requests * 1e6,
            "answered_all": self.answered_all,
        }


def take_turns(spec: Spec, against: Spec) -> dict:
    """Load two servers in turns; the ratio of their request rates.

    This machine's speed drifts from second to second (other programs, a
    core shared with another machine, clock changes), by more than the gap
    between two servers: runs seconds apart would compare the moments, not
    the servers. So both servers run at once, both sets of connections are
    open, and the load goes to one and then the other in turns of ``TURN``
    seconds, A B B A A B ..., for ``spec.duration`` seconds each. A drift
    slower than a turn lands on both alike. Only one server is loaded at a
    time: the other's connections wait, idle, for their next turn.
    """
    kind = {"echo": EchoConnection, "blackjack": BlackjackConnection}[spec.workload]
    specs = (spec, against)
    shares = (Turns(), Turns())
    turns = max(1, round(spec.duration / TURN))
    opened: list[list] = []
    try:
        for each in specs:
            opened.append(connect_all(each, kind))
        for turn in range(turns):
            for side in (0, 1) if turn % 2 == 0 else (1, 0):
                settle = spec.warmup if turn == 0 else SETTLE
                one = dataclasses.replace(specs[side], duration=TURN, warmup=settle)
                tally = Tally()
                start, end = drive(one, opened[side], tally)
                shares[side].add(tally, start, end)
    finally:
        for connections in opened:
            for conn in connections:
                conn.sock.close()
    server, other = (share.figures() for share in shares)
    paired = zip(shares[0].rates, shares[1].rates, strict=True)
    return {
        "workload": spec.workload,
        "connections": spec.connections,
        "turns": turns,
        "ratio": _ratio(server["throughput"], other["throughput"]),
        "turn_ratios": [_ratio(mine, theirs) for mine, theirs in paired],
        "server_figures": server,
        "against_figures": other,
    }


def _ratio(mine: float, theirs: float) -> float:
    return mine / theirs if theirs else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workload", choices=["echo", "blackjack"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--duration", type=float, default=Spec.duration)
    parser.add_argument("--warmup", type=float, default=Spec.warmup)
    parser.add_argument("--size", type=int, default=Spec.size)
    parser.add_argument("--timeout", type=float, default=Spec.timeout)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--server-tree", action="store_true")
    parser.add_argument("--against", type=int, metavar="PORT", help="take turns")
    parser.add_argument("--against-pid", type=int, metavar="PID")
    args = vars(parser.parse_args(argv))
    against_port, against_pid = args.pop("against"), args.pop("against_pid")
    spec = Spec(**args)
    try:
        if against_port is None:
            result = run(spec)
        else:
            other = dataclasses.replace(spec, port=against_port, server_pid=against_pid)
            result = take_turns(spec, other)
    except (OSError, LoadError) as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
