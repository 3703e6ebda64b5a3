"""The connection engine: one policy for every connection, on every transport.

A transport accepts connections and moves bytes, in its own way (a thread per
connection, one event loop, Twisted's reactor). Everything else a server
decides about a connection is decided here, once:

- run the session's steps, and send what each one produces, in order;
- deliver output pushed from outside the connection (another player's move
  at a shared table), from any thread, at once;
- close once the session is done and its output is sent;
- keep the idle deadline: ask the transport for a call when it passes;
- backpressure: while the transport's send buffer is full the peer is not
  reading, so stop reading from it too; output pushed to it meanwhile is
  held up to ``limits.max_pending`` bytes, and past that, or at the idle
  deadline, the peer is dropped and the log says why.

A transport hands each connection a :class:`Channel`, the few things the
engine needs from it, and calls the engine when something happens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..session import Session

if TYPE_CHECKING:
    from .base import Server


class Channel(Protocol):
    """What a transport provides for one connection.

    ``write`` never blocks; what the peer cannot take yet is buffered, and the
    transport calls :meth:`Connection.writing_paused` when that buffer is
    full and :meth:`Connection.writing_resumed` when it has drained.
    """

    peer: str  # the client's IP address, as text

    def write(self, data: bytes) -> None: ...

    def close(self) -> None:
        """Close once everything written is sent."""

    def abort(self) -> None:
        """Close now, dropping what is not sent."""

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        """Call ``callback`` in the connection's thread; return a cancellable."""

    def call_soon(self, callback: Callable[..., None], *args: Any) -> None:
        """From any thread: run ``callback(*args)`` where writing is safe."""

    def refuse(self, reply: bytes) -> None:
        """Turn the connection away: send ``reply`` if it fits now, then close."""


class Connection:
    """One session over one channel, from admission to close."""

    def __init__(self, server: Server, session: Session, channel: Channel) -> None:
        self.server = server
        self.session = session
        self.channel = channel
        self.peer = channel.peer
        self.closed = False
        self.paused = False  # the peer's send buffer is full: we stop reading
        self.held = 0  # bytes written since the pause
        self.timer: Any = None
        self.pushed: list[bytes] = []  # pushed, waiting for the channel
        self._pushed_lock = threading.Lock()  # pushers come from any thread
        session.deliver = self.push
        channel.connection = self

    # -- what the transport calls, in the connection's own thread -----------

    def start(self) -> None:
        self._step(self.session.connection_made)

    def received(self, data: bytes) -> None:
        # _step(session.data_received, data), written out: this runs for
        # every request, where each call saved shows in `labkit bench`.
        if self.closed:
            return
        session = self.session
        try:
            reply = session.data_received(data)
        except Exception as exc:
            self._failed(exc)
            return
        if reply:
            if self.paused:
                self.write(reply)
            else:
                self.channel.write(reply)
        if session.closing or self.timer is None:
            self._close_or_wait()

    def eof(self) -> None:
        self._step(self.session.eof_received)

    def deadline_reached(self) -> None:
        self.timer = None
        session = self.session
        if self.paused and session.deadline is not None:
            if session.clock() >= session.deadline:
                self.drop("it does not read what it is sent")
                return
        self._step(session.deadline_passed)

    def writing_paused(self) -> None:
        if not self.paused:  # Twisted says it again on every write while full
            self.paused, self.held = True, 0
            self.channel.pause_reading()

    def writing_resumed(self) -> None:
        self.paused = False
        if not self.session.closing:
            self.channel.resume_reading()

    def lost(self, reason: str = "") -> None:
        """The transport has closed the connection; count it out."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.closed = True
        why = reason or self.session.close_reason or "closed"
        self.server.release(self, f"closed ({self.peer}): {why}")
        try:
            self.session.connection_lost()
        except Exception as exc:
            self.server.record_error(f"session with {self.peer}", repr(exc))

    # -- from any thread ----------------------------------------------------------

    def push(self, data: bytes) -> None:
        """Send output the peer did not ask for (``session.push`` comes here).

        Pushes that come faster than the channel takes them are joined into
        one write, so a busy table costs its event loop one call a connection.
        """
        if self.closed:
            return
        with self._pushed_lock:
            self.pushed.append(data)
            if len(self.pushed) > 1:
                return  # a write of what is pushed is already on its way
        self.channel.call_soon(self._write_pushed)

    def _write_pushed(self) -> None:
        with self._pushed_lock:
            data = b"".join(self.pushed)
            self.pushed.clear()
        self.write(data)

    def write(self, data: bytes) -> None:
        """Hand ``data`` to the channel, unless the peer is past its bound.

        From the connection's own thread, or from a push: the channel
        (``call_soon``) makes it safe, each transport in its own way.
        """
        if self.closed:
            return
        if self.paused and self._over_bound(len(data)):
            self.drop(f"{self.held} bytes wait for a client that does not read")
            return
        self.channel.write(data)

    def _over_bound(self, size: int) -> bool:
        """Count bytes written while the peer does not read; True past the bound."""
        self.held += size
        return self.held > self.session.limits.max_pending

    def drop(self, why: str) -> None:
        """Close now, without sending what waits, and log why."""
        if not self.closed:
            self.closed = True
            self.session.close(f"dropped: {why}")
            self.channel.abort()

    # -- the policy ---------------------------------------------------------

    def _step(self, step: Callable[..., bytes], *args: Any) -> None:
        """One step of the session, then send, close or wait for the deadline."""
        if self.closed:
            return
        try:
            reply = step(*args)
        except Exception as exc:
            self._failed(exc)
            return
        if reply:
            self.write(reply)
        self._close_or_wait()

    def _failed(self, exc: Exception) -> None:
        """A bug in a session: close its connection, serve the rest."""
        self.server.record_error(f"session with {self.peer}", repr(exc))
        self.session.close("the session failed")
        self._close()

    def _close_or_wait(self) -> None:
        session = self.session
        if session.closing:
            self._close()
        elif self.timer is None and session.deadline is not None:
            # One timer at a time: if activity moved the deadline, the timer
            # fires early, finds the session active, and is set again.
            delay = max(0.0, session.deadline - session.clock())
            self.timer = self.channel.call_later(delay, self.deadline_reached)

    def _close(self) -> None:
        """Close once what was written is sent."""
        if not self.closed:
            self.closed = True
            self.channel.close()
