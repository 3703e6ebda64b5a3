"""The reliability report: what the fault suite tried, and the figures it saw.

Tests call ``report(case, transport, figure)``; at the end of a run with
``LABKIT_RELIABILITY_REPORT=path`` set (``make reliability``), the rows are
written to that file as a table, a case a row and a transport a column.
Nothing in it is written by hand.
"""

from __future__ import annotations

import platform
import time

from labkit.transports import TRANSPORTS

rows: dict[str, dict[str, str]] = {}


def add(case: str, transport: str, figure: str) -> None:
    rows.setdefault(case, {})[transport] = figure


def write(path: str, passed: bool) -> None:
    header = "| what was tried | " + " | ".join(TRANSPORTS) + " |"
    lines = [
        "# Reliability",
        "",
        "Written by the fault suite (`make reliability`), not by hand: each cell",
        "is what that test measured on that transport. A blank cell: the case",
        "does not apply (the iterative server serves one client at a time).",
        "",
        f"Run: {time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; "
        f"the suite {'passed' if passed else 'FAILED'}.",
        "",
        header,
        "|" + "---|" * (len(TRANSPORTS) + 1),
    ]
    for case, cells in rows.items():
        lines.append(
            f"| {case} | " + " | ".join(cells.get(t, "") for t in TRANSPORTS) + " |"
        )
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
