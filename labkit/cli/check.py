"""``python -m labkit check SERVICE HOST PORT [--only CASE ...] [--junit FILE]``.

Prints the plain report, whose last line is exactly ``N of M checks
passed``. Exit status 0 when every case passes, 1 when any fails, 2 when it
cannot connect (or the arguments are wrong). ``--junit FILE`` also writes
the report as JUnit XML, for GitHub Classroom, Gradescope or any CI.
"""

from __future__ import annotations

import sys

from ..addresses import format_address
from ..check import CannotConnect, check


def run_check(
    service: str, host: str, port: int, only: list[str] | None, junit: str | None
) -> int:
    try:
        report = check(service, (host, port), only=only)
    except CannotConnect as exc:
        print(f"labkit check: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # an unknown case
        print(f"labkit check: {exc}", file=sys.stderr)
        return 2
    if junit:
        with open(junit, "w", encoding="utf-8") as file:
            file.write(report.junit())
    print(f"checking {service} at {format_address(host, port)}", flush=True)
    print(report, flush=True)
    return 0 if report.ok else 1
