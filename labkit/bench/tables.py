"""Shared tables under load: many players seated at once on one tables server.

    python -m labkit.bench.tables --port P --players N [--think S] [--duration S]
                                  [--warmup S] [--timeout S] [--server-pid PID]

The client, a process of its own on one selectors loop, seats N players
seven to a table (``JOIN <id>``, table ``i // 7 + 1``), then plays: every
player bets 10 on each ``BETTING``, insures whenever insurance is offered
(so the window ends at once, not after its seconds), and on its turn hits
below 12 and stands otherwise. Betting ends when the whole table has bet,
so the tables run closed-loop: as fast as the server and the round trips
allow. Flat out, every table always waits on the server, and an action's
latency is mostly its place in the server's queue; with ``--think S`` each
player waits about S seconds before each action, as people do, and the
latency is the server's answer to a table at a human pace.

It measures, over the window after the warmup:

- hands per second: the deals (``HAND DEALER ?``) at every table;
- the latency of an action: from the moment a player sends ``BET``,
  ``HIT``, ``STAND`` or ``INSURE`` to the moment the last connection at
  that table has received the table line it caused (``BET <seat> 10``,
  ``ACTION <seat>:<hand> HIT`` ...). One process and one clock see both
  ends, so no clocks need agreeing;
- the server's memory per player: its RSS growth from before the first
  connection to the end of the window, over the players;
- the server's and this client's CPU share: a client near 1.0 was the
  limit, not the server.

The result is one JSON object on standard output. :func:`run_tables` runs
a server and this client for the benchmark's runner. Linux only (CPU
affinity and epoll, as the rest of the benchmark).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import selectors
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

from . import processes
from .load_client import percentile
from .push import raise_open_files_limit

SEATS = 7
BET = 10
BATCH = 50  # connections opened before their SEATED answers are read
LOST_AFTER = 2.0  # seconds: an action whose line is later than that is lost
SECONDS = 5  # bet and turn seconds: only a stuck player ever waits them out


class TablesError(Exception):
    """A lost connection or a table that stopped: the run does not count."""


@dataclass(eq=False)
class Pending:
    """An action sent, until every connection at its table has its line."""

    sent: int  # time.monotonic_ns()
    expected: int  # connections at the table when it was sent
    measured: bool  # sent inside the measured window
    received: set = field(default_factory=set)


@dataclass
class Table:
    number: int
    members: list[Player] = field(default_factory=list)
    # the line an action causes -> the actions waiting for it, oldest first
    pending: dict[str, list[Pending]] = field(default_factory=dict)


@dataclass(eq=False)
class Player:
    sock: socket.socket
    table: Table
    seat: int = 0
    buffer: bytes = b""
    totals: dict[str, int] = field(default_factory=dict)
    in_hand: bool = False


@dataclass
class Tally:
    measuring: bool = False
    hands: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Load:
    def __init__(
        self, port: int, players: int, timeout: float, host: str, think: float
    ) -> None:
        self.address = (host, port)
        self.think = think
        self.random = random.Random(1)
        self.order = itertools.count()  # ties in ``later`` never compare players
        self.later: list[tuple] = []  # (due, order, player, text, causes)
        self.timeout = timeout
        self.selector = selectors.DefaultSelector()
        self.tables = [Table(n + 1) for n in range((players + SEATS - 1) // SEATS)]
        self.players: list[Player] = []
        self.wanted = players
        self.tally = Tally()

    # -- connecting ----------------------------------------------------------

    def seat_everyone(self) -> None:
        for start in range(0, self.wanted, BATCH):
            for i in range(start, min(start + BATCH, self.wanted)):
                sock = socket.create_connection(self.address, timeout=self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setblocking(False)
                player = Player(sock, self.tables[i // SEATS])
                self.players.append(player)
                self.selector.register(sock, selectors.EVENT_READ, player)
                self.send(player, f"JOIN {player.table.number}")
            self.run_until(lambda: all(p.seat for p in self.players))

    # -- the loop -------------------------------------------------------------

    def run_until(self, done, deadline: float | None = None) -> None:
        """Serve every connection until ``done()`` or, if given, ``deadline``."""
        last_news = time.monotonic()
        while not done():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            if now - last_news > self.timeout:
                raise TablesError(f"no line from the server for {self.timeout:g} s")
            while self.later and self.later[0][0] <= now:
                _, _, player, text, causes = heapq.heappop(self.later)
                self.send(player, text, causes)
            wait = 0.05 if not self.later else min(0.05, self.later[0][0] - now)
            for key, _ in self.selector.select(max(0.0, wait)):
                last_news = time.monotonic()
                self.receive(key.data)

    def act(self, player: Player, text: str, causes: str) -> None:
        """Send ``text`` now, or after a player's thinking time."""
        if not self.think:
            self.send(player, text, causes)
            return
        due = time.monotonic() + self.think * self.random.uniform(0.5, 1.5)
        heapq.heappush(self.later, (due, next(self.order), player, text, causes))

    def receive(self, player: Player) -> None:
        data = player.sock.recv(65536)
        now = time.monotonic_ns()
        if not data:
            raise TablesError(
                f"the server closed a connection at table {player.table.number}"
            )
        *lines, player.buffer = (player.buffer + data).split(b"\r\n")
        for line in lines:
            self.line(player, line.decode("ascii"), now)

    def send(self, player: Player, text: str, causes: str | None = None) -> None:
        if causes is not None:
            table = player.table
            entry = Pending(
                time.monotonic_ns(), len(table.members), self.tally.measuring
            )
            table.pending.setdefault(causes, []).append(entry)
        player.sock.send(text.encode() + b"\r\n")  # a few bytes: never blocks

    def line(self, player: Player, line: str, now: int) -> None:
        table = player.table
        # The same line may be caused twice before the whole table has the
        # first (HIT, HIT): each connection receives them in order, so its
        # k-th receipt of a line belongs to the k-th action that causes it.
        for entry in table.pending.get(line, ()):
            if player not in entry.received:
                entry.received.add(player)
                if len(entry.received) == entry.expected:
                    table.pending[line].remove(entry)
                    if entry.measured:
                        self.tally.latencies_ns.append(now - entry.sent)
                break
        words = line.split()
        keyword = words[0]
        seat = player.seat
        if keyword == "SEATED":
            player.seat = int(words[2])
            table.members.append(player)
        elif keyword == "BETTING" and seat:
            player.in_hand = False
            player.totals.clear()
            self.act(player, f"BET {BET}", causes=f"BET {seat} {BET}")
        elif keyword == "HAND" and words[1] != "DEALER":
            if words[1].startswith(f"{seat}:"):
                player.in_hand = True
                player.totals[words[1]] = int(words[3])
        elif keyword == "HAND" and words[2] == "?" and player is table.members[0]:
            self.tally.hands += self.tally.measuring
        elif keyword == "TURN" and words[1] == "0:0":
            if player.in_hand:
                self.act(player, "INSURE", causes=f"ACTION {seat}:1 INSURE")
        elif keyword == "TURN" and words[1].startswith(f"{seat}:"):
            action = "HIT" if player.totals.get(words[1], 21) < 12 else "STAND"
            self.act(player, action, causes=f"ACTION {words[1]} {action}")
        elif keyword == "ERROR":
            if words[1] == "BAD-BET":  # below the minimum bet: the stack again
                self.send(player, "REBUY")
            else:
                self.tally.errors.append(line)

    def lost(self, before: int) -> int:
        """Measured actions sent before ``before`` whose line is still missing."""
        return sum(
            entry.measured and entry.sent < before
            for table in self.tables
            for entries in table.pending.values()
            for entry in entries
        )

    def close(self) -> None:
        for player in self.players:
            player.sock.close()
        self.selector.close()


def measure(
    port: int,
    players: int,
    *,
    duration: float = 10.0,
    warmup: float = 2.0,
    timeout: float = 10.0,
    server_pid: int | None = None,
    host: str = "127.0.0.1",
    think: float = 0.0,
) -> dict:
    """Seat ``players``, play, and measure for ``duration`` seconds.

    With ``think`` seconds, each player waits 0.5 to 1.5 times that long
    before each action, as people do; without, the tables run flat out.
    """
    raise_open_files_limit(players)
    rss = (lambda: processes.rss_kib(server_pid)) if server_pid else (lambda: 0)
    cpu = (lambda: processes.cpu_seconds(server_pid)) if server_pid else (lambda: 0.0)
    load = Load(port, players, timeout, host, think)
    rss_base = rss()
    try:
        began = time.monotonic()
        load.seat_everyone()
        seated_in = time.monotonic() - began
        rss_seated = rss()
        load.run_until(lambda: False, time.monotonic() + warmup)
        load.tally.measuring = True
        start, cpu_start, own_start = time.monotonic(), cpu(), time.process_time()
        load.run_until(lambda: False, start + duration)
        seconds = time.monotonic() - start
        cpu_used, own_used = cpu() - cpu_start, time.process_time() - own_start
        load.tally.measuring = False
        lost = load.lost(time.monotonic_ns() - int(LOST_AFTER * 1e9))
        rss_end = rss()
        server_threads = processes.threads(server_pid) if server_pid else 0
    finally:
        load.close()
    tally = load.tally
    latencies = sorted(tally.latencies_ns)
    return {
        "players": players,
        "tables": len(load.tables),
        "think_s": think,
        "seated_in_s": seated_in,
        "seconds": seconds,
        "hands": tally.hands,
        "hands_per_s": tally.hands / seconds,
        "actions": len(latencies),
        "lost": lost,
        "errors": tally.errors[:5],
        "p50_ms": percentile(latencies, 0.50) / 1e6,
        "p99_ms": percentile(latencies, 0.99) / 1e6,
        "max_ms": latencies[-1] / 1e6 if latencies else float("nan"),
        "rss_base_kib": rss_base,
        "rss_seated_kib": rss_seated,
        "rss_end_kib": rss_end,
        "mem_kib_per_player": (rss_end - rss_base) / players,
        "server_cpu_share": cpu_used / seconds,
        "client_cpu_share": own_used / seconds,
        "server_threads": server_threads,
    }


def run_tables(
    spec, players: int, think: float, plan, server_cpu=None, client_cpu=None
) -> dict:
    """A tables server on ``spec``'s transport, loaded by this module's client."""
    from .servers import ServerProcess, run_load_client

    tables = (players + SEATS - 1) // SEATS
    options = ("--tables", str(tables))
    options += ("--bet-seconds", str(SECONDS), "--turn-seconds", str(SECONDS))
    spec = replace(spec, command=spec.command + options)
    record: dict = dict(server=spec.name, workload="tables", connections=players)
    command = [sys.executable, "-m", "labkit.bench.tables"]
    command += ["--players", str(players), "--duration", str(plan.duration)]
    command += ["--warmup", str(plan.warmup), "--timeout", str(plan.timeout)]
    command += ["--think", str(think)]
    budget = plan.warmup + plan.duration + 3 * plan.timeout + players / 20
    try:
        with ServerProcess(spec, "tables", server_cpu) as server:
            command += ["--port", str(server.port), "--server-pid", str(server.pid)]
            result = run_load_client(command, budget, client_cpu)
            status = server.stop()
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return record | {"error": f"{type(exc).__name__}: {exc}"}
    return record | result | {"server_exit_status": status}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.bench.tables")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--think", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        result = measure(
            args.port,
            args.players,
            duration=args.duration,
            warmup=args.warmup,
            timeout=args.timeout,
            server_pid=args.server_pid,
            host=args.host,
            think=args.think,
        )
    except (TablesError, OSError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
