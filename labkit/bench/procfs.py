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
    """Resident memory in KiB (VmRSS), summed over the tree if asked.

    Over a tree, pages the processes share after fork count once per
    process: an upper bound.
    """
    total = 0
    for each in descendants(pid) if tree else [pid]:
        try:
            with open(f"/proc/{each}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def threads(pid: int) -> int:
    """How many threads the process runs now."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0
