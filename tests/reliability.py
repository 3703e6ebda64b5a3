"""The reliability report: what the fault suite tried, and the figures it saw.

Tests call ``add(case, transport, figure)``. A run with
``LABKIT_RELIABILITY_FIGURES=FILE.json`` set saves those figures there (the
hook is in conftest.py); the suite itself writes no document. The report is
rendered from the saved figures, a case a row and a transport a column:

    python tests/reliability.py FIGURES.json docs/RELIABILITY.md

``make reliability`` does both. Nothing in the report is written by hand.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

rows: dict[str, dict[str, str]] = {}


def add(case: str, transport: str, figure: str) -> None:
    rows.setdefault(case, {})[transport] = figure


def save(path: str | Path, passed: bool) -> None:
    """The figures of this run, and what it ran on, as JSON."""
    from labkit.transports import TRANSPORTS

    figures = dict(
        date=time.strftime("%Y-%m-%d"),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.machine()}",
        passed=passed,
        transports=list(TRANSPORTS),
        rows=rows,
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(figures, indent=1) + "\n")


def render(figures: dict) -> str:
    """The report in Markdown, from what :func:`save` wrote."""
    transports = figures["transports"]
    lines = [
        "# Reliability",
        "",
        "Written by the fault suite (`make reliability`), not by hand: each cell",
        "is what that test measured on that transport. A blank cell: the case",
        "does not apply (the iterative server serves one client at a time).",
        "",
        f"Run: {figures['date']}, Python {figures['python']}, {figures['system']}; "
        f"the suite {'passed' if figures['passed'] else 'FAILED'}.",
        "",
        "| what was tried | " + " | ".join(transports) + " |",
        "|" + "---|" * (len(transports) + 1),
    ]
    for case, cells in figures["rows"].items():
        lines.append(
            f"| {case} | " + " | ".join(cells.get(t, "") for t in transports) + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit("usage: python tests/reliability.py FIGURES.json REPORT.md")
    figures, report = (Path(arg) for arg in argv)
    if not figures.exists():
        sys.exit(
            f"{figures} is missing: run the fault suite with "
            f"LABKIT_RELIABILITY_FIGURES={figures} first (make reliability)"
        )
    report.write_text(render(json.loads(figures.read_text())))
    print(f"wrote {report} from {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
