"""Where operating systems differ: the kernel behaviour the notebooks check on Linux.

The notebooks' experiments assert what the Linux kernel does (the stored
outputs and CI run on Linux). On macOS or Windows the same experiment runs,
but its cell asks :func:`differs` first: ``None`` means this system does
what the cell checks, so the cell asserts it; otherwise the cell prints the
sentence, which says what differs here, and leaves Linux's numbers unchecked.
"""

from __future__ import annotations

import socket
import sys

# For each fact a notebook checks on Linux: the systems where it holds too,
# and what a learner sees elsewhere.
FACTS: dict[str, dict[str, str | None]] = {
    "live_bench": {
        "linux": None,
        "macos": (
            "The benchmark's load client drives its connections with epoll and "
            "pins processes to cores, which only Linux offers: on macOS the "
            "live run is skipped. The full run below was measured on Linux."
        ),
        "windows": (
            "The benchmark's load client drives its connections with epoll and "
            "pins processes to cores, which only Linux offers: on Windows the "
            "live run is skipped. The full run below was measured on Linux."
        ),
    },
    "udp_drops": {
        "linux": None,
        "macos": (
            "macOS sizes a receive buffer asked for 1 byte its own way: it may "
            "keep none of the datagrams, or more than Linux does: the count "
            "above is this system's, not checked."
        ),
        "windows": (
            "Windows sizes a receive buffer asked for 1 byte its own way: it "
            "may keep none of the datagrams, or all of them: the count above "
            "is this system's, not checked."
        ),
    },
    "udp_max_datagram": {
        "linux": None,
        "macos": (
            "macOS refuses a datagram above a limit of its own, "
            "net.inet.udp.maxdgram (9,216 bytes by default), so 65,507 bytes "
            "get EMSGSIZE too: not checked."
        ),
        "windows": (
            "Windows names the error WSAEMSGSIZE, and the sizes it refuses "
            "are its own: the outcomes above are this system's, not checked."
        ),
    },
    "backlog": {
        "linux": None,
        "macos": (
            "macOS counts the backlog its own (BSD) way, so a different number "
            "of clients may connect before accept(), and the next one may be "
            "refused instead of left hanging: the outcomes above are this "
            "system's, not checked."
        ),
        "windows": (
            "Windows queues its own number of connections for a backlog, and "
            "refuses a connection request beyond the queue (a reset: "
            "ConnectionRefusedError) instead of dropping it: the outcomes "
            "above are this system's, not checked."
        ),
    },
    "time_wait": {
        "linux": None,
        "macos": None,
        "windows": (
            "Windows does not keep a new listener off a port whose only users "
            "are connections in TIME_WAIT, so the restart may well succeed "
            "here with no option at all: not checked."
        ),
    },
    "reuse_address": {
        "linux": None,
        "macos": (
            "On macOS, as on BSD, SO_REUSEADDR on the restarting socket alone "
            "lets it bind past TIME_WAIT, so the first restart may succeed "
            "too: not checked."
        ),
        "windows": (
            "On Windows SO_REUSEADDR lets a second socket bind a port even "
            "while another listens on it (SO_EXCLUSIVEADDRUSE is Windows' "
            "guard against that), and TIME_WAIT keeps no listener off: the "
            "outcomes above are this system's, not checked."
        ),
    },
    "idle_threads": {
        "linux": None,
        "macos": (
            "macOS has no /proc, where this cell reads each thread's state and "
            "the process's memory: the threads sleep in recv there too, but "
            "this cell cannot show it (Activity Monitor can)."
        ),
        "windows": (
            "Windows has no /proc, where this cell reads each thread's state "
            "and the process's memory: the threads wait in recv there too, "
            "but this cell cannot show it (Task Manager can)."
        ),
    },
}


def system() -> str:
    """``"linux"``, ``"macos"``, ``"windows"``, or ``sys.platform`` for others."""
    if sys.platform.startswith("linux"):
        return "linux"
    return {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)


def differs(fact: str) -> str | None:
    """None where this system does what the notebook checks on Linux.

    Otherwise a sentence for the learner: what is different here, or, on a
    system nobody has checked, that the outcomes are not checked.
    """
    known = FACTS[fact]  # a KeyError names a fact nobody described
    here = system()
    if here in known:
        return known[here]
    return (
        f"This system ({sys.platform}) has not been checked against the "
        "notebook: the outcomes above are its own, not checked."
    )


def unix_sockets_missing() -> str | None:
    """None where ``socket.AF_UNIX`` exists; else why the demo is skipped."""
    if hasattr(socket, "AF_UNIX"):
        return None
    return (
        "This Python has no socket.AF_UNIX (Python for Windows does not offer "
        "it, though Windows 10 has Unix domain sockets since 2018): the Unix "
        "socket demo is skipped. On Linux or macOS it runs."
    )
