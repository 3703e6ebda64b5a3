"""What the operating system knows about a server process: CPU time, memory.

Asked of the system (through psutil) rather than of the server, so that
labkit's servers and the bare baselines are measured the same way, from
outside; psutil asks Linux, macOS and Windows each in its own way. A server
may be a tree of processes (socat forks one per connection): CPU time and
memory are then summed over the tree. A process that ends while we look
counts as nothing.
"""

from __future__ import annotations

import psutil

GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)


def descendants(pid: int) -> list[psutil.Process]:
    """``pid`` and every process below it (children, their children...)."""
    try:
        top = psutil.Process(pid)
        return [top, *top.children(recursive=True)]
    except GONE:
        return []


def _processes(pid: int, tree: bool) -> list[psutil.Process]:
    if tree:
        return descendants(pid)
    try:
        return [psutil.Process(pid)]
    except GONE:
        return []


def cpu_seconds(pid: int, *, tree: bool = False) -> float:
    """User + system CPU time used so far."""
    total = 0.0
    for each in _processes(pid, tree):
        try:
            times = each.cpu_times()
        except GONE:
            continue
        total += times.user + times.system
    return total


def rss_kib(pid: int, *, tree: bool = False) -> int:
    """Resident memory in KiB: RSS of one process, or PSS summed over a tree.

    Forked processes share most of their pages; PSS counts a shared page
    once in all, split between its sharers, where summing RSS would count
    it once per process. Only Linux reports PSS: elsewhere the tree's sum
    is of USS, the pages no other process shares, which leaves the shared
    ones out.
    """
    if not tree:
        try:
            return psutil.Process(pid).memory_info().rss // 1024
        except GONE:
            return 0
    total = 0
    for each in descendants(pid):
        try:
            full = each.memory_full_info()
        except GONE:
            continue
        total += getattr(full, "pss", full.uss)
    return total // 1024


def threads(pid: int) -> int:
    """How many threads the process runs now; 0 if it has ended."""
    try:
        return psutil.Process(pid).num_threads()
    except GONE:
        return 0
