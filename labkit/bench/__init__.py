"""Measure it: labkit's transports side by side with the plain code they replace.

    python -m labkit bench [--quick] [--only NAME ...]   (see command.py)

- :mod:`.servers`: the servers under test, each a subprocess that prints
  ``listening on HOST:PORT`` (labkit's transports, and the bare baselines in
  :mod:`.baselines`);
- :mod:`.load_client`: the load client, a process of its own: closed-loop echo
  (1 KiB requests) or Blackjack rounds over one epoll loop;
- :mod:`.push`: the latency of lines a server pushes to idle connections,
  its own server process and a client in the calling one;
- :mod:`.processes`: the server's CPU time and memory, asked of the system;
- :mod:`.runner`: the plan (servers alternated, medians of repeats);
- :mod:`.report`: the table and the chart;
- :mod:`.command`: the command line.

Linux only (epoll, CPU affinity). Every wait has a timeout, every process
started is stopped, and all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

from importlib import import_module

from .report import RESULTS, chart, load, table
from .servers import SERVERS


def __getattr__(name: str) -> object:
    # Every `python -m labkit` imports .command, and this package with it:
    # the runner loads only when a benchmark runs or a notebook asks for it.
    if name in ("Plan", "run_bench"):
        return getattr(import_module(".runner", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RESULTS", "SERVERS", "Plan", "chart", "load", "run_bench", "table"]
