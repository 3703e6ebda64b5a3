"""A ``recv`` that gives up at a deadline: how a blocking thread keeps the idle limit.

The readable way is two system calls a request: ``select`` until the socket
is readable or the deadline passes, then ``recv``. On Linux the kernel keeps
the timeout itself (``SO_RCVTIMEO`` on a blocking socket), so a ``recv`` is
one system call, as in a server without timeouts; ``python -m labkit bench``
measures what that is worth to the threaded transports.
"""

from __future__ import annotations

import select
import socket
import struct
import sys
from collections.abc import Callable

RECV_SIZE = 65536


class Receiver:
    """``recv(deadline)``: the bytes that arrived, or None once the deadline passed."""

    def __init__(self, sock: socket.socket, clock: Callable[[], float]) -> None:
        self.sock = sock
        self.clock = clock
        sock.setblocking(False)  # readiness comes from select: recv never blocks

    def recv(self, deadline: float | None) -> bytes | None:
        timeout = None if deadline is None else max(0.0, deadline - self.clock())
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return None
        try:
            return self.sock.recv(RECV_SIZE)
        except BlockingIOError:  # readiness without data: wake up and look again
            return None


class KernelReceiver(Receiver):
    """The same on Linux, with the timeout kept by the kernel: one call a request.

    The timeout starts at the idle limit. A step with activity moves the
    deadline a whole idle limit ahead, and a receive timed from then ends at
    that deadline, so a busy connection never reads the clock. Only when the
    deadline stayed put (a drip of bytes without a line, an early wake-up) is
    the next receive timed to end at it. It may end up to 1% of the idle
    limit late.
    """

    def __init__(
        self, sock: socket.socket, clock: Callable[[], float], idle: float | None
    ) -> None:
        self.sock = sock
        self.clock = clock
        self.idle = idle
        self.timeout = idle  # the receive timeout in force
        self.shortened = False  # ... is below the idle limit
        self.deadline: float | None = None  # the deadline at the last receive
        sock.setblocking(True)
        if idle is not None:
            self._set_timeout(idle)

    def recv(self, deadline: float | None) -> bytes | None:
        if deadline != self.deadline:  # activity: a whole idle limit ahead
            self.deadline = deadline
            if self.shortened:
                self._set_timeout(self.idle)
                self.shortened = False
        elif deadline is not None:
            timeout = deadline - self.clock()
            if timeout <= 0:
                return None
            if not timeout <= self.timeout <= timeout + self.idle / 100:
                self._set_timeout(timeout)
                self.shortened = True
        try:
            return self.sock.recv(RECV_SIZE)
        except (BlockingIOError, TimeoutError):  # SO_RCVTIMEO ran out
            return None

    def _set_timeout(self, seconds: float) -> None:
        self.timeout = seconds
        # struct timeval; 0 means "no timeout", so never round down to it.
        micros = max(1, round(seconds * 1e6))
        value = struct.pack("ll", *divmod(micros, 1_000_000))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)


KERNEL_TIMEOUTS = sys.platform.startswith("linux")


def receiver(
    sock: socket.socket, clock: Callable[[], float], idle: float | None
) -> Receiver:
    """The best receiver this system has for ``sock``."""
    if KERNEL_TIMEOUTS:
        return KernelReceiver(sock, clock, idle)
    return Receiver(sock, clock)
