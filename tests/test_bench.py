"""The benchmark runner works: a tiny run, real subprocesses, every answer back.

Not a measurement: the figures of so short a run mean nothing, so only
their shape and the answers are checked.
"""

from __future__ import annotations

import json
import math
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.bench import Plan, run_bench, table
from labkit.bench.command import plan_from
from labkit.bench.push import PushError, receive_one_line_each
from labkit.bench.runner import (
    push_runs_in_order,
    runs_in_order,
    tables_runs_in_order,
)
from labkit.cli import build_parser

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the benchmark uses epoll (Linux)"
)

FIGURES = ("throughput", "p50_ms", "p99_ms", "cpu_us_per_op", "mem_kib_per_conn")


@pytest.mark.timeout(60)
def test_a_tiny_run_answers_every_request_and_gives_sane_json() -> None:
    plan = Plan(
        servers=("asyncio", "bare-asyncio"),
        loads={"echo": (2,), "blackjack": (2,)},
        duration=0.3,
        warmup=0.1,
        repeats=1,
    )
    results = json.loads(json.dumps(run_bench(plan)))  # survives JSON as it is

    rows = {(r["workload"], r["server"]): r for r in results["rows"]}
    # the bare servers only echo
    assert set(rows) == {
        ("echo", "asyncio"),
        ("echo", "bare-asyncio"),
        ("blackjack", "asyncio"),
    }
    for row in rows.values():
        assert row["errors"] == [] and row["repeats"] == 1, row
        assert row["answered_all"], row
        for figure in FIGURES:
            assert isinstance(row[figure], (int, float)), (figure, row)
            assert not math.isnan(row[figure]), (figure, row)
        assert row["throughput"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"], row
    for run in results["runs"]:
        assert run["sent"] == run["answered"] > 0, run
        assert run["server_exit_status"] == 0, run  # stopped cleanly by SIGTERM
    # the ratio comes from the two servers loaded in turns
    [turns] = results["turns"]
    assert (turns["server"], turns["counterpart"]) == ("asyncio", "bare-asyncio")
    assert turns["server_exit_status"] == 0 and turns["turns"] >= 1, turns
    assert len(turns["turn_ratios"]) == turns["turns"]
    for side in ("server_figures", "against_figures"):
        assert turns[side]["answered_all"] and turns[side]["throughput"] > 0, turns
    [ratio] = results["ratios"]
    assert (ratio["server"], ratio["counterpart"]) == ("asyncio", "bare-asyncio")
    assert ratio["ratio"] == turns["ratio"] > 0 and ratio["repeats"] == 1
    assert results["meta"]["plan"]["duration"] == 0.3
    assert "asyncio" in table(results)


@pytest.mark.timeout(60)
def test_more_connections_than_a_class_allows_one_address_are_all_served() -> None:
    """Every load connection comes from 127.0.0.1: the bench's servers must
    not apply `serve`'s per-peer limit (16), or a run of 100 fails."""
    plan = Plan(
        servers=("threaded",),
        workloads=("echo",),
        loads={"echo": (20,)},
        duration=0.3,
        warmup=0.1,
        repeats=1,
    )
    [run] = run_bench(plan)["runs"]
    assert "error" not in run and run["sent"] == run["answered"] > 0, run


@pytest.mark.timeout(90)
def test_a_push_reaches_every_idle_connection_within_a_second() -> None:
    plan = Plan(
        servers=("threaded", "asyncio"),
        workloads=("push",),
        loads={"push": (10,)},
        pushes=5,
        push_warmup=1,
    )
    results = json.loads(json.dumps(run_bench(plan)))  # survives JSON as it is

    assert results["rows"] == [] and results["turns"] == []
    runs = {run["transport"]: run for run in results["push"]}
    assert set(runs) == {"threaded", "asyncio"}
    for run in runs.values():
        assert "error" not in run, run["error"]
        assert run["connections"] == 10 and run["pushes"] == 5, run
        assert run["lines"] == 10 * (1 + 5), run  # every connection, every push
        for figure in ("p50_ms", "p99_ms", "p50_last_ms", "p99_last_ms"):
            assert 0 < run[figure] < 1000, (figure, run)
        assert run["p50_ms"] <= run["p99_ms"] <= run["p99_last_ms"], run
        assert run["server_exit_status"] == 0, run  # stopped by closing its input
    assert "threaded" in table(results) and "last p99" in table(results)


@pytest.mark.timeout(30)
def test_a_connection_without_its_pushed_line_fails_the_run() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
        served = [listener.accept()[0] for _ in clients]
        poller = select.epoll()
        try:
            by_fd = {client.fileno(): client for client in clients}
            for fd in by_fd:
                poller.register(fd, select.EPOLLIN)
            for sock in served[:2]:
                sock.sendall(b"PUSH 1\n")
            with pytest.raises(PushError, match="1 of 3 connections"):
                receive_one_line_each(poller, by_fd, timeout=0.3)
            served[2].sendall(b"PUSH 1\nPUSH 2\n")
            with pytest.raises(PushError, match="more than one line"):
                receive_one_line_each(poller, {clients[2].fileno(): clients[2]}, 2)
        finally:
            poller.close()
            for sock in clients + served:
                sock.close()


def test_iterative_is_skipped_with_a_reason_beyond_one_connection() -> None:
    plan = Plan(servers=("iterative",), loads={"echo": (1, 10), "blackjack": ()})
    order, skipped = runs_in_order(plan)
    assert [(w, n, spec.name) for w, n, spec in order] == [("echo", 1, "iterative")]
    assert [s["connections"] for s in skipped] == [10]
    assert "one" in skipped[0]["reason"] or "1 connection" in skipped[0]["reason"]


def test_the_command_line_knows_bench() -> None:
    args = build_parser().parse_args(
        ["bench", "--quick", "--only", "asyncio,echo", "--only", "threaded"]
    )
    assert args.command == "bench" and args.quick
    assert args.only == ["asyncio", "echo", "threaded"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--only", "nonsense"])


def test_bench_writes_under_the_current_directory_unless_told() -> None:
    args = build_parser().parse_args(["bench", "--quick"])
    assert args.out == Path("benchmarks", "results") and not args.out.is_absolute()
    args = build_parser().parse_args(["bench", "--out", "/tmp/mine"])
    assert args.out == Path("/tmp/mine")


def test_quick_and_only_make_a_plan_of_seconds() -> None:
    args = build_parser().parse_args(
        ["bench", "--quick", "--only", "asyncio,echo", "--connections", "2"]
    )
    plan = plan_from(args)
    assert plan.servers == ("asyncio",) and plan.workloads == ("echo",)
    assert plan.loads["echo"] == (2,) and plan.repeats == 1


def test_only_push_measures_push_alone_and_never_on_iterative() -> None:
    plan = plan_from(build_parser().parse_args(["bench", "--quick", "--only", "push"]))
    assert plan.workloads == ("push",) and plan.loads["push"] == (10,)
    assert runs_in_order(plan) == ([], [])  # no load-client run
    order, skipped = push_runs_in_order(plan)
    assert [name for _, name in order] == [
        "threaded",
        "socketserver",
        "selectors",
        "asyncio",
        "twisted",
    ]
    assert [(s["server"], s["workload"]) for s in skipped] == [("iterative", "push")]
    args = build_parser().parse_args(["bench", "--only", "threaded,push"])
    order, _ = push_runs_in_order(plan_from(args))
    assert order == [(10, "threaded"), (100, "threaded"), (1000, "threaded")]


@pytest.mark.timeout(120)
def test_quick_tables_seat_70_players_at_10_tables_and_give_sane_figures() -> None:
    args = ["bench", "--quick", "--only", "asyncio,tables"]
    plan = plan_from(build_parser().parse_args(args))
    assert tables_runs_in_order(plan) == [(70, 0.0, "asyncio"), (70, 0.02, "asyncio")]
    results = json.loads(json.dumps(run_bench(plan)))
    assert results["rows"] == [] and results["push"] == []
    runs = results["tables"]
    assert [run["think_s"] for run in runs] == [0.0, 0.02], runs
    for run in runs:
        assert "error" not in run, run
        assert (run["players"], run["tables"]) == (70, 10), run
        assert run["errors"] == [] and run["lost"] == 0, run
        assert run["server_exit_status"] == 0, run  # stopped cleanly by SIGTERM
        assert run["hands"] > 0 and run["actions"] > run["hands"], run
        assert run["hands_per_s"] == pytest.approx(run["hands"] / run["seconds"])
        assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"], run
        assert run["rss_base_kib"] > 0 and run["rss_end_kib"] > 0, run
        growth = run["rss_end_kib"] - run["rss_base_kib"]
        assert run["mem_kib_per_player"] == pytest.approx(growth / 70), run
        assert run["server_threads"] >= 1 and run["server_cpu_share"] > 0, run
    assert "tables" in table(results)
    # the threaded transports are measured; iterative seats one player at a time
    everyone = plan_from(build_parser().parse_args(["bench", "--only", "tables"]))
    assert [name for _, _, name in tables_runs_in_order(everyone)][:5] == [
        "threaded",
        "socketserver",
        "selectors",
        "asyncio",
        "twisted",
    ]
    assert tables_runs_in_order(everyone)[0][:2] == (1000, 0.0)


@pytest.mark.timeout(60)
def test_the_command_line_starts_without_the_benchmark_s_heavy_imports() -> None:
    # Every `python -m labkit` builds the bench parser: it must not pay for
    # matplotlib, Twisted, the runner or the load client.
    heavy = ("matplotlib", "numpy", "psutil", "twisted", "labkit.bench.runner")
    heavy += ("labkit.bench.load_client", "labkit.bench.push", "labkit.bench.tables")
    code = (
        "import labkit.cli, sys; "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=45
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.timeout(60)
def test_bench_load_stays_the_results_reader_whatever_is_imported() -> None:
    # A submodule named like a package attribute replaces it once imported.
    import importlib
    import pkgutil

    import labkit.bench as bench

    for module in pkgutil.iter_modules(bench.__path__):
        importlib.import_module(f"labkit.bench.{module.name}")
    assert bench.load.__module__ == "labkit.bench.report"
