"""The results as a table (text) and a chart (PNG, matplotlib's Agg backend)."""

from __future__ import annotations

import json
import math
from pathlib import Path

# The results stored with the lab, in the checkout labkit is imported from
# (notebook 10 reads them). An installed copy has none: the command writes
# to --out, under the current directory.
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"

# Each labkit transport beside the bare server it stands in for, in one hue:
# labkit's bars solid, the bare ones hatched.
COLORS = {
    "iterative": "#999999",
    "threaded": "#1f5fa8",
    "socketserver": "#5b9bd5",
    "bare-socketserver": "#a9c8ea",
    "selectors": "#2e8b57",
    "asyncio": "#66bb6a",
    "bare-asyncio": "#b5dfb7",
    "twisted": "#7b4fa0",
    "bare-twisted": "#c3a6dc",
    "socat": "#e08a2c",
}


def load(path: str | Path) -> dict:
    with open(path) as file:
        return json.load(file)


def _number(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def table(results: dict) -> str:
    """Every row of the results: throughput, latency, CPU, memory, ratio.

    srv CPU and cli CPU are the shares of a core the server and the client
    used: a server near 100% was the limit, as it should be; a client near
    100% means the row measures the client. Push latency follows, in a
    table of its own.
    """
    lines = _load_table(results) if results["rows"] else []
    if results.get("push"):  # results stored before push was measured: none
        lines += [""] if lines else []
        lines += _push_table(results["push"])
    if results.get("tables"):  # results stored before tables were measured: none
        lines += [""] if lines else []
        lines += _tables_table(results["tables"])
    for skip in results["skipped"]:
        lines.append(
            f"skipped: {skip['server']} at {skip['connections']} "
            f"({skip['workload']}): {skip['reason']}"
        )
    return "\n".join(lines)


def _load_table(results: dict) -> list[str]:
    ratio = {
        (r["workload"], r["connections"], r["server"]): r["ratio"]
        for r in results["ratios"]
    }
    lines = [
        f"{'workload':9} {'conns':>5} {'server':17} {'per s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'CPU us/op':>9} {'KiB/conn':>8} {'vs bare':>7} "
        f"{'srv CPU':>7} {'cli CPU':>7} {'all ok':>6}"
    ]
    for row in results["rows"]:
        key = (row["workload"], row["connections"], row["server"])
        ok = "yes" if row["answered_all"] else "NO"
        lines.append(
            f"{row['workload']:9} {row['connections']:>5} {row['server']:17} "
            f"{_number(row['throughput']):>8} {_number(row['p50_ms'], 2):>7} "
            f"{_number(row['p99_ms'], 2):>7} {_number(row['cpu_us_per_op'], 1):>9} "
            f"{_number(row['mem_kib_per_conn'], 1):>8} "
            f"{_number(ratio.get(key), 2):>7} {_share(row.get('server_cpu_share')):>7} "
            f"{_share(row.get('client_cpu_share')):>7} {ok:>6}"
        )
    return lines


def _push_table(runs: list[dict]) -> list[str]:
    """Push latency: every receipt, and the last of each push (ms)."""
    lines = [
        "push: ms from session.push on the server to the line's receipt; "
        "'last': the last connection's, per push",
        f"{'transport':13} {'conns':>5} {'p50':>7} {'p99':>7} {'last p50':>8} "
        f"{'last p99':>8} {'pushes':>6}",
    ]
    for run in runs:
        where = f"{run['transport']:13} {run['connections']:>5}"
        if "error" in run:
            lines.append(f"{where} FAILED: {run['error']}")
            continue
        lines.append(
            f"{where} {run['p50_ms']:7.2f} {run['p99_ms']:7.2f} "
            f"{run['p50_last_ms']:8.2f} {run['p99_last_ms']:8.2f} {run['pushes']:>6}"
        )
    return lines


def _tables_table(runs: list[dict]) -> list[str]:
    """Players at shared tables: hands, action latency, memory."""
    lines = [
        "tables: players seven to a table; ms from a player's action to the "
        "last connection at the table receiving its line; think: seconds "
        "a player waits before acting (0: flat out)",
        f"{'transport':13} {'players':>7} {'think':>5} {'tables':>6} {'hands/s':>7} "
        f"{'p50':>7} {'p99':>7} {'KiB/player':>10} {'threads':>7} "
        f"{'srv CPU':>7} {'cli CPU':>7} {'lost':>4}",
    ]
    for run in runs:
        where = f"{run['server']:13} {run['connections']:>7}"
        if "error" in run:
            lines.append(f"{where} FAILED: {run['error']}")
            continue
        lines.append(
            f"{where} {run['think_s']:5g} {run['tables']:>6} {run['hands_per_s']:7.1f} "
            f"{run['p50_ms']:7.2f} {run['p99_ms']:7.2f} "
            f"{run['mem_kib_per_player']:10.1f} {run['server_threads']:>7} "
            f"{_share(run['server_cpu_share']):>7} "
            f"{_share(run['client_cpu_share']):>7} {run['lost']:>4}"
        )
    return lines


def chart(results: dict, path: str | Path | None = None):
    """Throughput and p99 latency per server and load; saved if ``path``.

    None, and nothing saved, when the results hold no echo or Blackjack load.
    """
    if not results["rows"]:
        return None
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")  # no display needed to write a PNG
    import matplotlib.pyplot as plt

    workloads = [
        w
        for w in ("echo", "blackjack")
        if any(r["workload"] == w for r in results["rows"])
    ]
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    panels = [
        ("throughput", "{unit}s per second"),
        ("p99_ms", "p99 latency (ms)"),
        ("mem_kib_per_conn", "memory per connection (KiB)"),
    ]
    figure, axes = plt.subplots(
        len(panels), len(workloads), figsize=(6.5 * len(workloads), 11), squeeze=False
    )
    for column, workload in enumerate(workloads):
        rows = [r for r in results["rows"] if r["workload"] == workload]
        loads = sorted({r["connections"] for r in rows})
        named = {r["server"] for r in rows}
        servers = [name for name in COLORS if name in named]
        servers += sorted(named - set(servers))
        width = 0.8 / len(servers)
        unit = rows[0]["unit"]
        for panel, (figure_name, label) in enumerate(panels):
            label = label.format(unit=unit)
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
                bare = server.startswith("bare-") or server == "socat"
                ax.bar(
                    xs,
                    values,
                    width,
                    label=server,
                    color=COLORS.get(server),
                    hatch="//" if bare else None,
                    edgecolor="white",
                )
            ax.set_xticks(range(len(loads)), [str(n) for n in loads])
            ax.set_xlabel("players" if workload == "blackjack" else "connections")
            ax.set_ylabel(label)
            ax.set_title(f"{workload}: {label}")
            if figure_name == "p99_ms":
                ax.set_yscale("log")  # from a fraction of a ms to seconds
                ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.yaxis.set_minor_formatter(NullFormatter())
        top = axes[0][column]
        top.set_ylim(top=top.get_ylim()[1] * 1.4)  # room for the legend
        top.legend(fontsize="small", ncol=3, loc="upper left")
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
        plt.close(figure)
    return figure
