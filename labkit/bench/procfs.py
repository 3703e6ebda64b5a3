"""What the kernel knows about a server process: CPU time and memory (Linux).

Read from ``/proc`` rather than asked of the server, so that labkit's
servers and the bare baselines are measured the same way, from outside. A
server may be a tree of processes (socat forks one per connection): CPU time
and memory are then summed over the tree.
"""

from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    # The command name (field 2) may hold spaces: split after its ")".
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (children, their children...)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(_stat_fields(int(entry))[1])
            except (OSError, IndexError, ValueError):
                continue  # ended while we looked
            parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, ()))
    return tree


def cpu_seconds(pid: int, *, tree: bool = False) -> float:
    """User + system CPU time used so far (fields utime and stime)."""
    total = 0
    for each in descendants(pid) if tree else [pid]:
        try:
            fields = _stat_fields(each)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_kib(pid: int, *, tree: bool = False) -> int:
    """Resident memory in KiB: VmRSS of one process, or Pss summed over a tree.

    Forked processes share most of their pages; Pss (from smaps_rollup)
    counts a shared page once in all, split between its sharers, where
    summing VmRSS would count it once per process.
    """
    if not tree:
        return _field(f"/proc/{pid}/status", "VmRSS:")
    return sum(
        _field(f"/proc/{each}/smaps_rollup", "Pss:") for each in descendants(pid)
    )


def _field(path: str, name: str) -> int:
    """The first number on the line that starts with ``name``; 0 if gone."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass  # the process ended while we looked
    return 0


def threads(pid: int) -> int:
    """How many threads the process runs now."""
    return _field(f"/proc/{pid}/status", "Threads:")
