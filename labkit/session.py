"""Sessions: one object per connection that turns bytes in into bytes out.

A session never touches a socket, a thread or an event loop (it is
"sans-IO", like h11). A transport drives it through four calls, named as in
asyncio's ``Protocol`` so that the shape is familiar:

    session.connection_made()       the peer is connected
    session.data_received(data)     bytes arrived, in any chunking
    session.eof_received()          the peer closed its sending side
    session.deadline_passed()       the clock went past ``session.deadline``

and, after every call, sends ``session.data_to_send()`` and closes the
connection once ``session.closing`` is true and everything is sent. For the
call that comes with every request, ``session.answer(data)`` does both
steps in one: ``data_received(data)``, then ``data_to_send()``.

Output goes to an outbox that the transport drains. Today a session only
answers its own peer; the outbox is also where, later, another connection's
move at a shared table will put lines for this one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .framing import BadLine, Event, Line, LineFramer


@dataclass(frozen=True)
class Settings:
    """What a service needs to know besides the bytes: limits and a clock.

    The defaults are the safe ones: every connection must complete a line
    within ``idle_timeout`` seconds (None turns the limit off).
    """

    idle_timeout: float | None = 300.0
    max_line: int = 512
    seed: int | None = None
    clock: Callable[[], float] = time.monotonic


DEFAULT_SETTINGS = Settings()


def protocol_line(text: str) -> bytes:
    """Encode one server line: printable ASCII only, ended with CRLF."""
    if not (text.isascii() and text.isprintable()):  # rare: replace, char by char
        text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text.encode("ascii") + b"\r\n"


def busy_reply(max_connections: int) -> bytes:
    """What a connection gets when the server is full, before it is closed."""
    return protocol_line(
        f"ERROR BUSY the server is at its limit of {max_connections} "
        "connections; try again later"
    )


class Session:
    """Base class: an outbox, a close flag and an idle deadline."""

    def __init__(self, peer: str, settings: Settings = DEFAULT_SETTINGS) -> None:
        self.peer = peer  # the client's IP address, as text
        self.settings = settings
        self.closing = False
        # The clock time by which the peer must show activity, or None.
        self.deadline: float | None = None
        self._outbox: list[bytes] = []  # chunks, joined only when taken
        self._clock = settings.clock  # these two are read on every request
        self._idle_timeout = settings.idle_timeout
        self.mark_active()

    # -- what the transport calls --------------------------------------

    def connection_made(self) -> None:
        """The connection is open; a greeting goes here."""

    def data_received(self, data: bytes) -> None:
        """Bytes arrived from the peer."""

    def eof_received(self) -> None:
        """The peer will send nothing more: by default, end the session."""
        self.closing = True

    def deadline_passed(self) -> None:
        """Called when the clock reached ``deadline``: close if still idle."""
        deadline = self.deadline
        if deadline is not None and self._clock() >= deadline:
            self.idle_timed_out()

    def answer(self, data: bytes) -> bytes:
        """``data_received(data)``, then ``data_to_send()``, in one call.

        The blocking transports and Twisted call this for every chunk they
        receive: a service may override it with a faster equivalent (echo
        does).
        """
        self.data_received(data)
        return self.data_to_send()

    def data_to_send(self) -> bytes:
        """Take everything waiting in the outbox."""
        outbox = self._outbox
        if not outbox:
            return b""
        data = b"".join(outbox)  # a single chunk comes back as is, uncopied
        outbox.clear()
        return data

    # -- what subclasses use --------------------------------------------

    def idle_timed_out(self) -> None:
        self.closing = True

    def mark_active(self) -> None:
        """The peer showed activity: the idle deadline starts again."""
        if self._idle_timeout is not None:
            self.deadline = self._clock() + self._idle_timeout

    def send_bytes(self, data: bytes) -> None:
        self._outbox.append(data)  # bytes: kept, not copied, until sent

    def close(self) -> None:
        """Close the connection once the outbox is sent."""
        self.closing = True


class LineSession(Session):
    """A session that speaks in lines, with the common rules of PROTOCOL.md.

    Subclasses implement :meth:`handle_command`; everything else (framing,
    errors for bad lines, empty lines, QUIT, the idle limit) is done here.
    """

    def __init__(self, peer: str, settings: Settings = DEFAULT_SETTINGS) -> None:
        super().__init__(peer, settings)
        self._framer = LineFramer(settings.max_line)

    def data_received(self, data: bytes) -> None:
        self._handle_events(self._framer.feed(data))

    def eof_received(self) -> None:
        # `printf 'DEAL' | nc -N host port` sends no newline: answer it anyway.
        self._handle_events(self._framer.feed_eof())
        self.close()

    def _handle_events(self, events: list[Event]) -> None:
        for event in events:
            if self.closing:
                return  # nothing after QUIT (or a fatal error) is read
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
            self.close()
        else:
            self.handle_command(command, argument)

    def handle_command(self, command: str, argument: str) -> None:
        """Answer one command (already upper-case); override this."""
        self.send_error("UNKNOWN-COMMAND", f"{command} is not a command here")

    def idle_timed_out(self) -> None:
        limit = self.settings.idle_timeout
        self.send_error("IDLE-TIMEOUT", f"no command for {limit:g} seconds; closing")
        self.close()

    def send_line(self, text: str) -> None:
        self.send_bytes(protocol_line(text))

    def send_error(self, code: str, text: str) -> None:
        self.send_line(f"ERROR {code} {text}")
