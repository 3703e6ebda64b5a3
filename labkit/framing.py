"""Line framing shared by every line service (docs/protocol.md, "Common rules").

Bytes go in, in chunks of any size; complete lines and framing errors come
out. The framer owns every rule about what a line is, so that no transport
and no service has to know:

- a line ends with LF; one CR before the LF is dropped;
- telnet commands (IAC ...) are removed silently, even when a chunk boundary
  cuts through one; two of them mean something: ``IAC IP`` (telnet's Ctrl-C)
  discards the part of a line typed so far, and ``IAC DO TIMING-MARK``
  becomes a :class:`TimingMark` event, which the server must answer;
- a line is at most ``max_line`` bytes; a longer one is reported once, and
  the rest of it is thrown away up to the next LF (resynchronisation);
- a line may hold printable ASCII and tab only; anything else makes the
  whole line invalid.

Memory is bounded: the framer never keeps more than ``max_line + 1`` bytes,
however long a client keeps sending without a newline.
"""

from __future__ import annotations

from dataclasses import dataclass

from .limits import DEFAULT_LIMITS

IAC, SB, SE, IP = 0xFF, 0xFA, 0xF0, 0xF4
WILL, WONT, DO, DONT = 0xFB, 0xFC, 0xFD, 0xFE
TIMING_MARK = 0x06

# Bytes allowed in a line: tab and printable ASCII. bytes.translate() with
# this table deletes the allowed ones, so what is left is what is wrong.
_ALLOWED = bytes([0x09, *range(0x20, 0x7F)])


@dataclass(frozen=True)
class Line:
    """A complete, valid line, without its terminator."""

    text: str


@dataclass(frozen=True)
class BadLine:
    """A complete line the server must reject with ``ERROR <code> <text>``."""

    code: str  # "BAD-ENCODING" or "LINE-TOO-LONG"
    text: str


@dataclass(frozen=True)
class TimingMark:
    """The client sent ``IAC DO TIMING-MARK`` and shows nothing until answered."""


Event = Line | BadLine | TimingMark

# Telnet parser states.
_DATA, _COMMAND, _OPTION, _SUB, _SUB_IAC = range(5)


class LineFramer:
    """Turns a byte stream into :class:`Line` and :class:`BadLine` events."""

    def __init__(self, max_line: int = DEFAULT_LIMITS.max_line) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._discarding = False  # inside a line that was already too long
        self._telnet = _DATA
        self._option_of = 0  # the command (WILL ... DONT) whose option comes next
        self._marks: list[int] = []  # where timing marks stood in the chunk

    @property
    def buffered(self) -> int:
        """How many bytes of an unfinished line are held (at most max_line + 1)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Event]:
        """Add received bytes; return the events of every line they complete."""
        if self._telnet != _DATA or IAC in data:
            data = self._strip_telnet(data)
        events: list[Event] = []
        marks, self._marks = self._marks, []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            while marks and marks[0] <= start:  # in the order they came
                events.append(TimingMark())
                del marks[0]
            self._end_line(data[start:end], events)
            start = end + 1
        self._add_partial(data[start:], events)
        events += [TimingMark()] * len(marks)
        return events

    def feed_eof(self) -> list[Event]:
        """The stream ended: a last line without its LF still counts."""
        if self._discarding or not self._buffer:
            self._buffer.clear()
            return []
        events: list[Event] = []
        self._end_line(b"", events)
        return events

    def _add_partial(self, piece: bytes, events: list[Event]) -> None:
        if self._discarding or not piece:
            return
        # One byte past the limit may be the CR of a CRLF still to come.
        allowed = self.max_line + piece.endswith(b"\r")
        if len(self._buffer) + len(piece) > allowed:
            self._buffer.clear()
            self._discarding = True
            events.append(self._too_long())
        else:
            self._buffer += piece

    def _end_line(self, piece: bytes, events: list[Event]) -> None:
        if self._discarding:
            self._discarding = False
            return
        raw = bytes(self._buffer) + piece
        self._buffer.clear()
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > self.max_line:
            events.append(self._too_long())
        elif raw.translate(None, _ALLOWED):
            events.append(
                BadLine("BAD-ENCODING", "lines must be printable ASCII; line ignored")
            )
        else:
            events.append(Line(raw.decode("ascii")))

    def _too_long(self) -> BadLine:
        return BadLine(
            "LINE-TOO-LONG",
            f"lines are limited to {self.max_line} bytes; line ignored",
        )

    def _strip_telnet(self, data: bytes) -> bytes:
        """Remove telnet commands; the state carries over between chunks.

        IAC IAC is telnet's escape for a data byte 0xFF: it is kept as that
        byte, which then makes its line invalid (0xFF is not ASCII).
        """
        out = bytearray()
        state = self._telnet
        for byte in data:
            if state == _DATA:
                if byte == IAC:
                    state = _COMMAND
                else:
                    out.append(byte)
            elif state == _COMMAND:
                if byte == IAC:
                    out.append(IAC)
                    state = _DATA
                elif byte in (WILL, WONT, DO, DONT):
                    self._option_of = byte
                    state = _OPTION
                elif byte == SB:
                    state = _SUB
                else:
                    if byte == IP:
                        self._interrupt(out)
                    state = _DATA
            elif state == _OPTION:
                if self._option_of == DO and byte == TIMING_MARK:
                    self._marks.append(len(out))
                state = _DATA
            elif state == _SUB:
                if byte == IAC:
                    state = _SUB_IAC
            else:  # _SUB_IAC
                state = _DATA if byte == SE else _SUB
        self._telnet = state
        return bytes(out)

    def _interrupt(self, out: bytearray) -> None:
        """``IAC IP``: throw away the unfinished line, as a terminal's Ctrl-C does."""
        last_end = out.rfind(b"\n")
        del out[last_end + 1 :]
        if last_end < 0:  # the unfinished line began in an earlier chunk
            self._buffer.clear()
            self._discarding = False
