"""A way for any thread to wake a thread that waits in ``select``.

A loop waiting on sockets cannot also wait on a flag, so the flag is a
socket too: one end of a pair is in the loop's selector, and ``wake()``
writes a byte to the other. A wake-up that finds a byte already waiting is
not needed, so a full pair is fine.
"""

from __future__ import annotations

import socket


class Waker:
    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)

    def wake(self) -> None:
        """From any thread: make the reader readable."""
        try:
            self._writer.send(b"x")
        except OSError:
            pass  # a wake-up already waits, or the loop has ended

    def clear(self) -> None:
        """In the loop: take the wake-ups that came."""
        try:
            self.reader.recv(4096)
        except OSError:
            pass

    def close(self) -> None:
        self.reader.close()
        self._writer.close()
