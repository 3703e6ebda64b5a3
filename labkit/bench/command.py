"""``python -m labkit bench``: the command line of the benchmark.

    python -m labkit bench [--quick] [--duration S] [--repeats N]
                           [--only NAME ...] [--connections N ...]
                           [--players N ...] [--out DIR]

Workloads: ``echo`` and ``blackjack`` (closed-loop load), ``push``
(the latency of a line pushed to 10, 100 and 1,000 idle connections) and
``tables`` (1,000 players at 143 shared tables: hands per second, memory
per player, and the latency from an action to its line at the whole table).
Prints one line per run as it ends, then the table of medians; writes the
results as JSON and a PNG chart of the load to ``DIR``
(``benchmarks/results`` under the current directory unless told). Exit
status 1 if any request went unanswered, any pushed line was lost or any
run failed. Not a test: figures vary with the machine and with whatever
else it is doing.

Every ``python -m labkit`` imports this module to build its parser, so it
imports only what the arguments need; the runner, the load client and
matplotlib load in :func:`main`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .servers import SERVERS, WORKLOADS

if TYPE_CHECKING:
    from .runner import Plan

OUT = Path("benchmarks", "results")  # relative: under the current directory


def _names(text: str) -> list[str]:
    names = [name for name in text.split(",") if name]
    for name in names:
        if name not in SERVERS and name not in WORKLOADS:
            raise argparse.ArgumentTypeError(
                f"{name!r} is neither a server ({', '.join(SERVERS)}) "
                f"nor a workload ({', '.join(WORKLOADS)})"
            )
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Closed-loop echo and Blackjack load on every labkit transport and on "
        "bare servers written without labkit, the latency of lines pushed "
        "to idle connections, and 1,000 players at shared tables; JSON and a "
        "PNG chart."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds, not minutes: 10 connections and 10 players, 1 repeat, "
        "a few pushes, 70 players at 10 tables",
    )
    parser.add_argument("--duration", type=float, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, help="seconds of load before that")
    parser.add_argument("--repeats", type=int, help="runs per server and load")
    parser.add_argument(
        "--only",
        type=_names,
        action="extend",
        metavar="NAME[,NAME]",
        help="servers and/or workloads to run (default: all)",
    )
    parser.add_argument("--connections", type=int, nargs="+", help="echo loads")
    parser.add_argument("--players", type=int, nargs="+", help="blackjack loads")
    parser.add_argument(
        "--out",
        type=Path,
        default=OUT,
        metavar="DIR",
        help="where to write bench.json and bench.png (quick.json and quick.png "
        "with --quick); default: %(default)s under the current directory",
    )


def plan_from(args: argparse.Namespace) -> Plan:
    """The plan the arguments ask for."""
    from .runner import Plan

    plan = Plan()
    if args.quick:
        plan.duration, plan.warmup, plan.repeats = 1.0, 0.25, 1
        plan.loads = {"echo": (10,), "blackjack": (10,), "push": (10,)}
        plan.loads["tables"], plan.think = (70,), (0.0, 0.02)
        plan.pushes, plan.push_warmup = 5, 2
    only = args.only or []
    if servers := [name for name in only if name in SERVERS]:
        plan.servers = tuple(servers)
    if workloads := [name for name in only if name in WORKLOADS]:
        plan.workloads = tuple(workloads)
    if args.connections:
        plan.loads["echo"] = tuple(args.connections)
    if args.players:
        plan.loads["blackjack"] = tuple(args.players)
    for knob in ("duration", "warmup", "repeats"):
        if getattr(args, knob) is not None:
            setattr(plan, knob, getattr(args, knob))
    return plan


def main(args: argparse.Namespace) -> int:
    import json

    from . import report
    from .runner import run_bench

    plan = plan_from(args)
    out = args.out / ("quick.json" if args.quick else "bench.json")
    print(
        f"labkit bench: {', '.join(plan.servers)}; {', '.join(plan.workloads)}; "
        f"{plan.duration:g} s x {plan.repeats}; "
        f"{plan.push_warmup} + {plan.pushes} pushes; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    results = run_bench(plan, progress=lambda line: print(line, flush=True))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    chart = out.with_suffix(".png")
    drawn = report.chart(results, chart) is not None  # push alone: no chart
    meta, others = results["meta"], results["meta"]["others_running"]
    print()
    print(report.table(results))
    print(
        f"\nwrote {out}{f' and {chart}' if drawn else ''} in "
        f"{meta['seconds']:.0f} s; other tasks "
        f"running between runs: median {others['median']}, most {others['max']} "
        f"(0 is a quiet machine)"
    )
    ok = all(row["answered_all"] and not row["failed"] for row in results["rows"])
    ok &= all(
        "error" not in run
        and run["server_figures"]["answered_all"]
        and run["against_figures"]["answered_all"]
        for run in results["turns"]
    )
    ok &= all("error" not in run for run in results["push"])
    ok &= all(
        "error" not in run and run["lost"] == 0 and not run["errors"]
        for run in results["tables"]
    )
    return 0 if ok else 1
