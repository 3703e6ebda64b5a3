"""Blackjack under load: rounds per second and the server's memory.

    .venv/bin/python benchmarks/blackjack_load.py [--players 10 100 1000]
                                                  [--seconds 5] [--transport threaded]

For each number of players it starts a fresh ``python -m labkit serve
blackjack`` subprocess (so its memory is the server's alone), connects that
many players at once, and lets each play as fast as it can for ``--seconds``
(DEAL, then HIT below 17, else STAND), reading the server's VmRSS and thread
count from /proc/PID/status meanwhile. The players are asyncio coroutines in
this process, so 1,000 of them cost the measurement little. Not a test:
figures vary with the machine. Every wait has a timeout; the whole run is
bounded by roughly (connect + seconds + stop) per size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from labkit.blackjack.game import Hand, Score, Turn
from labkit.blackjack.protocol import parse_line

READ_TIMEOUT = 30.0  # one answer; far beyond any healthy reply
BATCH = 100  # players connecting at a time, below the listen backlog


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in KiB, and Threads, from /proc/PID/status."""
    wanted = {"VmRSS", "VmHWM", "Threads"}
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in wanted:
                values[name] = int(value.split()[0])
    return values


class ServerProcess:
    def __init__(self, transport: str, max_connections: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "labkit",
                "serve",
                "blackjack",
                "--transport",
                transport,
                "--max-connections",
                str(max_connections),
                "--idle-timeout",
                "120",
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        if not ready:
            self.stop()
            raise TimeoutError("the server did not start within 15 s")
        address = self.proc.stdout.readline().strip().removeprefix("listening on ")
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)

    def status(self) -> dict[str, int]:
        return proc_status(self.proc.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server, from /proc/PID/stat."""
        with open(f"/proc/{self.proc.pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@dataclass
class Tally:
    rounds: int = 0
    failures: list[str] = field(default_factory=list)


async def read_event(reader: asyncio.StreamReader):
    line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
    if not line:
        raise ConnectionError("the server closed the connection")
    return parse_line(line.decode("ascii").rstrip("\r\n"))


async def answer(reader, writer, command: bytes) -> Hand | None:
    """Send a command; read to TURN (returns the player's hand) or SCORE (None)."""
    writer.write(command)
    player = None
    while True:
        event = await read_event(reader)
        if isinstance(event, Hand) and event.who == "PLAYER":
            player = event
        elif isinstance(event, Turn):
            return player
        elif isinstance(event, Score):
            return None


async def player(host, port, connected, start, stop_at, tally: Tally) -> None:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), READ_TIMEOUT
        )
    except (OSError, asyncio.TimeoutError) as exc:
        tally.failures.append(f"connect: {exc!r}")
        connected.release()
        return
    try:
        try:
            await read_event(reader)  # WELCOME
        finally:
            connected.release()  # counted in, greeted or not: never wait forever
        await start.wait()
        while time.monotonic() < stop_at[0]:
            hand = await answer(reader, writer, b"DEAL\r\n")
            while hand is not None:
                move = b"HIT\r\n" if hand.total < 17 else b"STAND\r\n"
                hand = await answer(reader, writer, move)
            tally.rounds += 1
        writer.write(b"QUIT\r\n")
        await read_event(reader)  # BYE
    except (OSError, asyncio.TimeoutError, ValueError) as exc:
        tally.failures.append(repr(exc))
    finally:
        writer.close()


async def measure(players: int, seconds: float, transport: str) -> dict:
    server = ServerProcess(transport, max_connections=players + 10)
    try:
        baseline = server.status()
        tally = Tally()
        connected = asyncio.Semaphore(0)
        start = asyncio.Event()
        stop_at = [0.0]
        # Connect in batches, each greeted before the next: a burst of 1,000
        # connects overflows the listen backlog (128), and the kernel then
        # retries the handshakes seconds later, which would time the backlog,
        # not the game.
        tasks = []
        deadline = time.monotonic() + READ_TIMEOUT
        for first in range(0, players, BATCH):
            batch = range(first, min(first + BATCH, players))
            for _ in batch:
                tasks.append(asyncio.create_task(
                    player(server.host, server.port, connected, start, stop_at, tally)
                ))  # fmt: skip
            for _ in batch:
                await asyncio.wait_for(connected.acquire(), deadline - time.monotonic())
        cpu_before = server.cpu_seconds(), time.process_time()
        idle = server.status()
        peak = dict(idle)
        began = time.monotonic()
        stop_at[0] = began + seconds
        start.set()
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=0.25)
            status = server.status()
            peak["VmRSS"] = max(peak["VmRSS"], status["VmRSS"])
            peak["Threads"] = max(peak["Threads"], status["Threads"])
            if time.monotonic() > stop_at[0] + READ_TIMEOUT:
                raise TimeoutError(f"{len(pending)} players did not finish")
        elapsed = time.monotonic() - began
        after = server.status()
        server_cpu = server.cpu_seconds() - cpu_before[0]
        client_cpu = time.process_time() - cpu_before[1]
    finally:
        status = server.stop()
    return {
        "players": players,
        "rounds": tally.rounds,
        "rounds_per_s": tally.rounds / elapsed,
        "rss_base_mib": baseline["VmRSS"] / 1024,
        "rss_connected_mib": idle["VmRSS"] / 1024,
        "rss_peak_mib": max(peak["VmRSS"], after["VmHWM"]) / 1024,
        "rss_delta_mib": (max(peak["VmRSS"], after["VmHWM"]) - baseline["VmRSS"])
        / 1024,
        "threads_peak": peak["Threads"],
        "server_cpu_share": server_cpu / elapsed,  # 1.0 = one CPU busy all along
        "client_cpu_share": client_cpu / elapsed,
        "failures": tally.failures,
        "exit_status": status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--players", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--transport", default="threaded")
    args = parser.parse_args(argv)
    print(f"blackjack on {args.transport}, {args.seconds:g} s of play per size, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")  # fmt: skip
    print(f"{'players':>7} {'rounds':>7} {'rounds/s':>9} {'RSS base':>9} "
          f"{'connected':>9} {'peak':>8} {'delta':>8} {'/player':>8} "
          f"{'threads':>7} {'CPU srv':>7} {'CPU cli':>7}")  # fmt: skip
    failed = False
    for players in args.players:
        r = asyncio.run(measure(players, args.seconds, args.transport))
        per_player = r["rss_delta_mib"] * 1024 / players
        print(f"{r['players']:>7} {r['rounds']:>7} {r['rounds_per_s']:>9.0f} "
              f"{r['rss_base_mib']:>7.1f}Mi {r['rss_connected_mib']:>7.1f}Mi "
              f"{r['rss_peak_mib']:>6.1f}Mi {r['rss_delta_mib']:>6.1f}Mi "
              f"{per_player:>6.0f}Ki {r['threads_peak']:>7} "
              f"{r['server_cpu_share']:>7.0%} {r['client_cpu_share']:>7.0%}",
              flush=True)  # fmt: skip
        if r["failures"] or r["exit_status"] != 0:
            failed = True
            print(f"  {len(r['failures'])} failures, e.g. {r['failures'][:3]}; "
                  f"server exit status {r['exit_status']}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
