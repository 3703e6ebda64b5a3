"""Measure it: labkit's transports side by side with the plain code they replace.

    python -m labkit bench [--quick] [--only NAME ...]   (see command.py)

- :mod:`.servers`: the servers under test, each a subprocess that prints
  ``listening on HOST:PORT`` (labkit's transports, and the bare baselines in
  ``benchmarks/baselines/``);
- :mod:`.load`: the load client, a process of its own: closed-loop echo
  (1 KiB requests) or Blackjack rounds over one epoll loop;
- :mod:`.procfs`: the server's CPU time and memory, read from ``/proc``;
- :mod:`.runner`: the plan (servers alternated, medians of repeats);
- :mod:`.report`: the table and the chart.

Linux only. Every wait has a timeout, every process started is stopped,
and all traffic stays on 127.0.0.1.
"""

from .report import RESULTS, chart, load, table
from .runner import Plan, run_bench
from .servers import SERVERS

__all__ = ["RESULTS", "SERVERS", "Plan", "chart", "load", "run_bench", "table"]
