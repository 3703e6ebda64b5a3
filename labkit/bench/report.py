"""The results as a table (text) and a chart (PNG, matplotlib's Agg backend)."""

from __future__ import annotations

import json
import math
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def load(path: str | Path) -> dict:
    with open(path) as file:
        return json.load(file)


def _number(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def table(results: dict) -> str:
    """Every row of the results: throughput, latency, CPU, memory, ratio."""
    ratio = {
        (r["workload"], r["connections"], r["server"]): r["ratio"]
        for r in results["ratios"]
    }
    lines = [
        f"{'workload':9} {'conns':>5} {'server':17} {'per s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'CPU us/op':>9} {'KiB/conn':>8} {'vs bare':>7} {'all ok':>6}"
    ]
    for row in results["rows"]:
        key = (row["workload"], row["connections"], row["server"])
        ok = "yes" if row["answered_all"] else "NO"
        lines.append(
            f"{row['workload']:9} {row['connections']:>5} {row['server']:17} "
            f"{_number(row['throughput']):>8} {_number(row['p50_ms'], 2):>7} "
            f"{_number(row['p99_ms'], 2):>7} {_number(row['cpu_us_per_op'], 1):>9} "
            f"{_number(row['mem_kib_per_conn'], 1):>8} "
            f"{_number(ratio.get(key), 2):>7} {ok:>6}"
        )
    for skip in results["skipped"]:
        lines.append(
            f"skipped: {skip['server']} at {skip['connections']} "
            f"({skip['workload']}): {skip['reason']}"
        )
    return "\n".join(lines)


def chart(results: dict, path: str | Path | None = None):
    """Throughput and p99 latency per server and load; saved if ``path``."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")  # no display needed to write a PNG
    import matplotlib.pyplot as plt

    workloads = [
        w
        for w in ("echo", "blackjack")
        if any(r["workload"] == w for r in results["rows"])
    ]
    figure, axes = plt.subplots(
        2, len(workloads), figsize=(6.5 * len(workloads), 8), squeeze=False
    )
    for column, workload in enumerate(workloads):
        rows = [r for r in results["rows"] if r["workload"] == workload]
        loads = sorted({r["connections"] for r in rows})
        servers = list(dict.fromkeys(r["server"] for r in rows))
        width = 0.8 / len(servers)
        unit = rows[0]["unit"]
        for panel, (figure_name, label) in enumerate(
            [("throughput", f"{unit}s per second"), ("p99_ms", "p99 latency (ms)")]
        ):
            ax = axes[panel][column]
            for i, server in enumerate(servers):
                values = []
                for load in loads:
                    match = [
                        r
                        for r in rows
                        if r["server"] == server and r["connections"] == load
                    ]
                    value = match[0][figure_name] if match else None
                    values.append(value if value is not None else 0)
                xs = [
                    x + (i - (len(servers) - 1) / 2) * width for x in range(len(loads))
                ]
                hatch = "//" if not server.startswith(("bare-", "socat")) else None
                ax.bar(xs, values, width, label=server, hatch=hatch)
            ax.set_xticks(range(len(loads)), [str(n) for n in loads])
            ax.set_xlabel("players" if workload == "blackjack" else "connections")
            ax.set_ylabel(label)
            ax.set_title(f"{workload}: {label}")
            if panel == 1:
                ax.set_yscale("log")
        axes[0][column].legend(fontsize="small", ncol=2)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
        plt.close(figure)
    return figure
