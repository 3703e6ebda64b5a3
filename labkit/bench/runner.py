"""The plan of a benchmark and its running: servers alternated, medians kept.

A run is one server process, one load client process and one number of
connections. Runs are alternated between servers (A B C A B C, not
A A B B C C), so that whatever else the machine is doing at some moment
lands on every server alike; each figure reported is the median of its
repeats. The server is pinned to one core and the client to another where
the machine has two, so that they do not take turns on one.

The ratio of a labkit transport to its bare counterpart is measured apart,
by a finer method: both servers run at once and the load client serves
them in short turns (``load_client.take_turns``), so that the machine's drift from
second to second cannot pass for a difference between them.

Push latency (:mod:`.push`) is measured last, once per transport and
number of idle connections: its repeats are the pushes of one run. So are
players at shared tables (:mod:`.tables`): their repeats are the hands and
actions of one run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import psutil

from .servers import (
    SERVERS,
    WORKLOADS,
    ServerProcess,
    ServerSpec,
    missing,
    run_load_client,
)

LOADS = {
    "echo": (1, 10, 100),
    "blackjack": (10, 100, 1000),
    "push": (10, 100, 1000),
    "tables": (1000,),  # players, seven to a table: 143 tables
}
FIGURES = (
    "throughput",
    "p50_ms",
    "p99_ms",
    "cpu_us_per_op",
    "mem_kib_per_conn",
    "server_cpu_share",  # 1.0: the server kept its core busy (it was the limit)
    "client_cpu_share",  # near 1.0: the client was the limit; distrust the row
)


@dataclass
class Plan:
    """What to measure, for how long, how often."""

    servers: tuple[str, ...] = tuple(SERVERS)
    workloads: tuple[str, ...] = WORKLOADS
    loads: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict(LOADS))
    duration: float = 3.0  # seconds measured per run
    warmup: float = 0.5  # seconds of load before measuring
    repeats: int = 5  # the ratios in turns vary by a few % from run to run
    timeout: float = 10.0  # for one answer, a start or a stop
    pushes: int = 25  # counted per push run, after push_warmup more
    push_warmup: int = 5
    # tables: seconds a player thinks before each action (0: flat out)
    think: tuple[float, ...] = (0.0, 0.25)


def cores() -> tuple[int | None, int | None]:
    """(server core, client core), or (None, None) on a single core."""
    available = sorted(os.sched_getaffinity(0))
    return (available[0], available[1]) if len(available) >= 2 else (None, None)


def median(values: list[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def others_running() -> int:
    """Processes running or ready to run on the machine now, this one aside.

    Read between runs, when no server or client of ours is running, so it
    counts the machine's other work: with two cores, anything above 0 takes
    CPU time from the measurement. (The load average would count our own
    1,000 threads of the run before.)
    """
    me = os.getpid()
    return sum(
        each.pid != me and each.info["status"] == psutil.STATUS_RUNNING
        for each in psutil.process_iter(["status"])
    )


def runs_in_order(plan: Plan) -> tuple[list[tuple[str, int, ServerSpec]], list]:
    """Every (workload, connections, server) run, alternated; and the skips."""
    order, skipped = [], []
    for workload in plan.workloads:
        if workload in ("push", "tables"):
            continue  # not the load client's: see push_runs_in_order
        for connections in plan.loads[workload]:
            for name in plan.servers:
                spec = SERVERS[name]
                reason = None
                if workload not in spec.workloads:
                    continue  # the bare servers only echo: nothing to say
                if spec.max_connections and connections > spec.max_connections:
                    reason = (
                        f"serves {spec.max_connections} connection at a time; "
                        "the others would wait for it to close, and a "
                        "closed-loop client never closes"
                    )
                reason = reason or missing(spec)
                if reason:
                    skipped.append(
                        dict(
                            server=name,
                            workload=workload,
                            connections=connections,
                            reason=reason,
                        )
                    )
                else:
                    order.append((workload, connections, spec))
    return order, skipped


def push_runs_in_order(plan: Plan) -> tuple[list[tuple[int, str]], list[dict]]:
    """Every (connections, transport) push run, and the skips."""
    order, skipped = [], []
    if "push" not in plan.workloads:
        return order, skipped
    for connections in plan.loads.get("push", ()):
        for name in plan.servers:
            spec = SERVERS[name]
            if "push" in spec.workloads:
                order.append((connections, name))
            elif spec.kind == "labkit":  # the bare servers never push: say nothing
                skipped.append(
                    dict(
                        server=name,
                        workload="push",
                        connections=connections,
                        reason="serves one connection at a time: none waits, "
                        "idle, for a push",
                    )
                )
    return order, skipped


def tables_runs_in_order(plan: Plan) -> list[tuple[int, float, str]]:
    """Every (players, thinking time, transport) run of the tables workload."""
    if "tables" not in plan.workloads:
        return []
    return [
        (players, think, name)
        for players in plan.loads.get("tables", ())
        for think in plan.think
        for name in plan.servers
        if "tables" in SERVERS[name].workloads  # labkit's concurrent transports
    ]


def pairs_in_order(
    order: list[tuple[str, int, ServerSpec]],
) -> list[tuple[str, int, ServerSpec, ServerSpec]]:
    """Every run of a labkit transport whose counterpart also runs at that load."""
    planned = {(workload, n, spec.name) for workload, n, spec in order}
    return [
        (workload, n, spec, SERVERS[spec.counterpart])
        for workload, n, spec in order
        if (workload, n, spec.counterpart) in planned
    ]


def run_once(spec: ServerSpec, workload: str, connections: int, plan: Plan) -> dict:
    """Start the server, load it from a client process, stop it; the figures."""
    record = dict(server=spec.name, workload=workload, connections=connections)
    return record | _load(workload, connections, plan, spec)


def run_turns(
    spec: ServerSpec, bare: ServerSpec, workload: str, connections: int, plan: Plan
) -> dict:
    """``spec`` and its bare counterpart, loaded in turns: their ratio."""
    record = dict(server=spec.name, counterpart=bare.name)
    record |= dict(workload=workload, connections=connections)
    return record | _load(workload, connections, plan, spec, bare)


def run_push(transport: str, connections: int, plan: Plan) -> dict:
    """Push latency on ``transport`` with ``connections`` idle connections."""
    from .push import measure

    server_cpu, client_cpu = cores()
    record: dict = dict(others_running=others_running())
    figures = measure(
        transport,
        connections,
        pushes=plan.pushes,
        warmup=plan.push_warmup,
        timeout=plan.timeout,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
    )
    return figures | record


def run_tables(transport: str, players: int, think: float, plan: Plan) -> dict:
    """``players`` at shared tables on one ``transport`` server."""
    from . import tables

    server_cpu, client_cpu = cores()
    record: dict = dict(others_running=others_running())
    result = tables.run_tables(
        SERVERS[transport], players, think, plan, server_cpu, client_cpu
    )
    return result | record


def _load(workload: str, connections: int, plan: Plan, *specs: ServerSpec) -> dict:
    """Run ``specs`` (one, or two to take turns) under one load client."""
    server_cpu, client_cpu = cores()
    service = "blackjack" if workload == "blackjack" else "echo"
    record: dict = dict(others_running=others_running())
    try:
        with contextlib.ExitStack() as stack:
            servers = [
                stack.enter_context(ServerProcess(spec, service, server_cpu))
                for spec in specs
            ]
            command = [
                sys.executable,
                "-m",
                "labkit.bench.load_client",
                workload,
                "--port",
                str(servers[0].port),
                "--connections",
                str(connections),
                "--duration",
                str(plan.duration),
                "--warmup",
                str(plan.warmup),
                "--timeout",
                str(plan.timeout),
                "--server-pid",
                str(servers[0].pid),
            ] + (["--server-tree"] if specs[0].tree else [])
            if len(servers) == 2:
                command += [
                    "--against",
                    str(servers[1].port),
                    "--against-pid",
                    str(servers[1].pid),
                ]
            budget = (
                len(servers) * (plan.warmup + plan.duration + 2)
                + 3 * plan.timeout
                + connections / 50
            )
            result = run_load_client(command, budget, client_cpu)
            statuses = [server.stop() for server in servers]
            status = next((code for code in statuses if code != 0), 0)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return record | {"error": f"{type(exc).__name__}: {exc}"}
    return record | result | {"server_exit_status": status}


def medians(runs: list[dict]) -> list[dict]:
    """One row per (workload, connections, server): the median of its repeats."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        key = (run["workload"], run["connections"], run["server"])
        groups.setdefault(key, []).append(run)
    rows = []
    for (workload, connections, name), group in groups.items():
        good = [run for run in group if "error" not in run]
        row = dict(
            workload=workload,
            connections=connections,
            server=name,
            kind=SERVERS[name].kind,
            counterpart=SERVERS[name].counterpart,
            unit="request" if workload == "echo" else "round",
            repeats=len(good),
            failed=len(group) - len(good),
            answered_all=bool(good) and all(r["answered_all"] for r in good),
            errors=[run["error"] for run in group if "error" in run],
        )
        for figure in FIGURES:
            values = [run[figure] for run in good]
            row[figure] = median(values) if values else None
        rows.append(row)
    return rows


def ratios(turns: list[dict]) -> list[dict]:
    """Each labkit transport's throughput over its bare counterpart's.

    The median over repeats of the ratio measured in turns, with the lowest
    and the highest.
    """
    groups: dict[tuple, list[float]] = {}
    for run in turns:
        if "error" in run:
            continue
        key = (run["workload"], run["connections"], run["server"], run["counterpart"])
        groups.setdefault(key, []).append(run["ratio"])
    return [
        dict(
            workload=workload,
            server=server,
            counterpart=counterpart,
            connections=connections,
            ratio=median(values),
            low=min(values),
            high=max(values),
            repeats=len(values),
        )
        for (workload, connections, server, counterpart), values in groups.items()
    ]


def run_bench(plan: Plan, progress: Callable[[str], None] = lambda line: None) -> dict:
    """Run the whole plan; the results as plain data, ready for JSON.

    ``progress`` is told about each run as it ends (the command prints it; a
    notebook passes nothing).
    """
    order, skipped = runs_in_order(plan)
    pairs = pairs_in_order(order)
    push_order, push_skipped = push_runs_in_order(plan)
    tables_order = tables_runs_in_order(plan)
    server_cpu, client_cpu = cores()
    meta = dict(
        started=time.strftime("%Y-%m-%d %H:%M:%S"),
        python=sys.version.split()[0],
        cpus=os.cpu_count(),
        server_core=server_cpu,
        client_core=client_cpu,
        loadavg_before=os.getloadavg(),
        plan=asdict(plan),
    )
    runs, turns = [], []
    began = time.monotonic()
    for repeat in range(plan.repeats):
        for workload, connections, spec in order:
            run = run_once(spec, workload, connections, plan)
            run["repeat"] = repeat
            runs.append(run)
            progress(describe(run))
        for workload, connections, spec, bare in pairs:
            run = run_turns(spec, bare, workload, connections, plan)
            run["repeat"] = repeat
            turns.append(run)
            progress(describe_turns(run))
    pushed = []
    for connections, name in push_order:
        run = run_push(name, connections, plan)
        pushed.append(run)
        progress(describe_push(run))
    at_tables = []
    for players, think, name in tables_order:
        run = run_tables(name, players, think, plan)
        at_tables.append(run)
        progress(describe_tables(run))
    meta["loadavg_after"] = os.getloadavg()
    others = [run["others_running"] for run in runs + turns + pushed + at_tables]
    meta["others_running"] = dict(
        median=median(others) if others else None,
        max=max(others, default=None),
    )
    meta["seconds"] = time.monotonic() - began
    rows = medians(runs)
    return dict(
        meta=meta,
        rows=rows,
        ratios=ratios(turns),
        push=pushed,
        tables=at_tables,
        skipped=skipped + push_skipped,
        runs=runs,
        turns=turns,
    )


def describe(run: dict) -> str:
    """One line about one run, for progress output."""
    where = f"{run['workload']:9} {run['connections']:>5} {run['server']:17}"
    if "error" in run:
        return f"{where} FAILED: {run['error']}"
    return (
        f"{where} {run['throughput']:>9.0f}/s  p50 {run['p50_ms']:6.2f} ms  "
        f"p99 {run['p99_ms']:6.2f} ms  server CPU {run['server_cpu_share']:4.0%}  "
        f"client CPU {run['client_cpu_share']:4.0%}  others {run['others_running']}"
    )


def describe_turns(run: dict) -> str:
    """One line about one run in turns, for progress output."""
    where = f"{run['workload']:9} {run['connections']:>5} {run['server']:17}"
    if "error" in run:
        return f"{where} FAILED in turns with {run['counterpart']}: {run['error']}"
    mine, theirs = run["server_figures"], run["against_figures"]
    return (
        f"{where} {run['ratio']:5.2f} x {run['counterpart']} in turns: "
        f"{mine['throughput']:.0f}/s vs {theirs['throughput']:.0f}/s, server CPU "
        f"{mine['cpu_us_per_op']:.1f} vs {theirs['cpu_us_per_op']:.1f} us/op"
    )


def describe_push(run: dict) -> str:
    """One line about one push run, for progress output."""
    where = f"{'push':9} {run['connections']:>5} {run['transport']:17}"
    if "error" in run:
        return f"{where} FAILED: {run['error']}"
    return (
        f"{where} p50 {run['p50_ms']:6.2f} ms  p99 {run['p99_ms']:6.2f} ms  "
        f"last receipt p50 {run['p50_last_ms']:6.2f} ms  "
        f"p99 {run['p99_last_ms']:6.2f} ms  ({run['pushes']} pushes)  "
        f"others {run['others_running']}"
    )


def describe_tables(run: dict) -> str:
    """One line about one tables run, for progress output."""
    where = f"{'tables':9} {run['connections']:>5} {run['server']:17}"
    where += f" think {run['think_s']:g} s" if "think_s" in run else ""
    if "error" in run:
        return f"{where} FAILED: {run['error']}"
    return (
        f"{where} {run['hands_per_s']:>6.0f} hands/s  p50 {run['p50_ms']:6.2f} ms  "
        f"p99 {run['p99_ms']:6.2f} ms  {run['mem_kib_per_player']:5.1f} KiB/player  "
        f"server CPU {run['server_cpu_share']:4.0%}  "
        f"client CPU {run['client_cpu_share']:4.0%}  others {run['others_running']}"
    )
