"""Sessions: one object per connection that turns bytes in into bytes out.

A session never touches a socket, a thread or an event loop (it is
"sans-IO", like h11). The connection engine (``labkit.transports.connection``)
drives it through four calls, named as in asyncio's ``Protocol`` so that the
shape is familiar, each of which returns the bytes to send:

    session.connection_made()       the peer is connected
    session.data_received(data)     bytes arrived, in any chunking
    session.eof_received()          the peer closed its sending side
    session.deadline_passed()       the clock went past ``session.deadline``

The engine sends what each call returns, and closes the connection once
``session.closing`` is true and everything is sent. A session that answers
in several pieces queues them (``send_line``, ``send_bytes``) and returns
``take_output()``.

Output that the peer did not ask for (another player's move at a shared
table, a timer) is *pushed* with :meth:`Session.push`, from any thread: the
engine delivers it at once, even while the connection's own thread waits
in ``recv``. A session that no engine drives (in a test) queues pushed
output like any other.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .framing import BadLine, Event, Line, LineFramer, TimingMark
from .limits import DEFAULT_LIMITS, Limits

WILL_TIMING_MARK = b"\xff\xfb\x06"  # IAC WILL TIMING-MARK


def protocol_line(text: str) -> bytes:
    """Encode one server line: printable ASCII only, ended with CRLF."""
    if not (text.isascii() and text.isprintable()):
        text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text.encode("ascii") + b"\r\n"


class Session:
    """Base class: an outbox, a close flag and an idle deadline."""

    def __init__(
        self,
        peer: str,
        limits: Limits = DEFAULT_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.peer = peer  # the client's IP address, as text
        self.limits = limits
        self.clock = clock
        self.closing = False
        self.close_reason = ""  # why the session ended, for the server's log
        # The clock time by which the peer must show activity, or None.
        self.deadline: float | None = None
        self._outbox: list[bytes] = []  # chunks, joined only when taken
        # Where pushed output goes; the connection engine replaces it.
        self.deliver: Callable[[bytes], None] = self._outbox.append
        self.mark_active()

    @classmethod
    def serving(cls, server) -> None:
        """The server is starting, before its first connection.

        A service whose connections share state (the tables' lobby) builds
        it here, once per server, and may start threads with
        ``server.start_thread`` so that ``stop()`` joins them.
        """

    @classmethod
    def busy_reply(cls, max_connections: int, *, per_peer: int | None = None) -> bytes:
        """What a connection gets when the server is full, before it is closed;
        with ``per_peer``, when its address has that many connections open."""
        if per_peer is not None:
            return protocol_line(
                f"ERROR BUSY the server takes at most {per_peer} connections "
                "from one address; try again later"
            )
        return protocol_line(
            f"ERROR BUSY the server is at its limit of {max_connections} "
            "connections; try again later"
        )

    # -- what the engine calls ------------------------------------------

    def connection_made(self) -> bytes:
        """The connection is open: return a greeting, if any."""
        return self.take_output()

    def data_received(self, data: bytes) -> bytes:
        """Bytes arrived from the peer: return the answer."""
        return self.take_output()

    def eof_received(self) -> bytes:
        """The peer will send nothing more: by default, end the session."""
        self.close("EOF")
        return self.take_output()

    def connection_lost(self) -> None:
        """The connection is closed, whoever closed it; nothing more goes out.

        Called once, from whichever engine thread saw the close, maybe while
        another session's push is under way: keep it short and lock-free.
        """

    def deadline_passed(self) -> bytes:
        """Called when the clock reached ``deadline``: close if still idle."""
        if self.deadline is not None and self.clock() >= self.deadline:
            self.idle_timed_out()
        return self.take_output()

    # -- what subclasses (and, for push, anyone) use ------------------------

    def idle_timed_out(self) -> None:
        self.close("idle")

    def mark_active(self) -> None:
        """The peer showed activity: the idle deadline starts again."""
        idle = self.limits.idle_timeout
        if idle is not None:
            self.deadline = self.clock() + idle

    def send_bytes(self, data: bytes) -> None:
        """Queue output for the peer, for the current step to return."""
        self._outbox.append(data)

    def take_output(self) -> bytes:
        """Everything queued, taken out of the queue."""
        data = b"".join(self._outbox)
        self._outbox.clear()
        return data

    def push(self, data: bytes) -> None:
        """Output the peer did not ask for, sent at once; safe from any thread."""
        self.deliver(data)

    def push_line(self, text: str) -> None:
        self.push(protocol_line(text))

    def close(self, reason: str = "") -> None:
        """Close the connection once the outbox is sent."""
        self.closing = True
        self.close_reason = self.close_reason or reason


class LineSession(Session):
    """A session that speaks in lines, with the common rules of docs/protocol.md.

    Subclasses implement :meth:`handle_command`; everything else (framing,
    errors for bad lines, empty lines, QUIT, the idle limit) is done here.
    """

    def __init__(self, peer: str, limits: Limits = DEFAULT_LIMITS, **options) -> None:
        super().__init__(peer, limits, **options)
        self._framer = LineFramer(limits.max_line)

    def data_received(self, data: bytes) -> bytes:
        self._handle_events(self._framer.feed(data))
        return self.take_output()

    def eof_received(self) -> bytes:
        # `printf 'DEAL' | nc -N host port` sends no newline: answer it anyway.
        self._handle_events(self._framer.feed_eof())
        self.close("EOF")
        return self.take_output()

    def _handle_events(self, events: list[Event]) -> None:
        for event in events:
            if self.closing:
                return  # nothing after QUIT (or a fatal error) is read
            if isinstance(event, TimingMark):
                # Telnet's answer, the one non-ASCII reply: telnet then shows
                # output again (it hides all of it after a Ctrl-C until then).
                self.send_bytes(WILL_TIMING_MARK)
                continue
            self.mark_active()
            if isinstance(event, BadLine):
                self.send_error(event.code, event.text)
            elif isinstance(event, Line):
                self._handle_line(event.text)

    def _handle_line(self, text: str) -> None:
        words = text.strip().split(None, 1)
        if not words:
            return  # an empty line is ignored and gets no answer
        command = words[0].upper()
        argument = words[1] if len(words) > 1 else ""
        if command == "QUIT":
            self.send_line("BYE see you next time")
            self.close("QUIT")
        else:
            self.handle_command(command, argument)

    def handle_command(self, command: str, argument: str) -> None:
        """Answer one command (already upper-case); override this."""
        self.send_error("UNKNOWN-COMMAND", f"{command} is not a command here")

    def idle_timed_out(self) -> None:
        limit = self.limits.idle_timeout
        self.send_error("IDLE-TIMEOUT", f"no command for {limit:g} seconds; closing")
        self.close("idle")

    def send_line(self, text: str) -> None:
        self.send_bytes(protocol_line(text))

    def send_error(self, code: str, text: str) -> None:
        self.send_line(f"ERROR {code} {text}")
