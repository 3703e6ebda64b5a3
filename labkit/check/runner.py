"""The engine: each case is a script of bounded steps over real sockets.

A case receives a :class:`Probe`: it opens connections (:class:`Conn`),
sends, and reads what it expects. Every wait has a timeout (``STEP``
seconds for a read, a budget for the case, one for the whole run), so a
server that hangs, floods, closes early or never reads makes a case fail,
never the checker hang. A failure is a :class:`CaseFailed` carrying what
was expected; the probe keeps what was sent and what came back, so the
report can show the end of the conversation. No threads: several
connections are driven from this one thread, and every socket a case opens
is closed when the case ends, whatever happened.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..addresses import format_address
from .report import CaseResult, CheckReport

STEP = 2.0  # seconds a read may wait: loopback answers in well under 1 ms
CONNECT = 3.0
CASE_BUDGET = 15.0  # seconds for one case, whatever it does
RUN_BUDGET = 55.0  # seconds for the whole run
MAX_LINE = 4096  # a server line longer than this is a flood, not a line
SHOWN = 10  # lines of the transcript a failure shows


class CannotConnect(ConnectionError):
    """Nothing accepts connections at the address: no case can run."""


class CaseFailed(Exception):
    """A case's expectation was not met."""

    def __init__(self, expected: str, hint: str | None = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.hint = hint


class Closed(CaseFailed):
    """The server closed (or reset) the connection while an answer was due."""


class Silent(CaseFailed):
    """Nothing came within the step's time."""


@dataclass(frozen=True)
class Case:
    name: str  # kebab-case, unique within a service
    group: str  # what it teaches
    title: str  # one line: what it checks
    hint: str  # what to change, in the lecture's terms
    run: Callable[[Probe], None]


def shown(data: bytes, limit: int = 60) -> str:
    """Bytes as a transcript line: the text when printable, else a repr."""
    text = data.decode("latin-1")
    if all(" " <= ch <= "~" for ch in text) and len(text) <= limit:
        return text
    if len(data) > limit:
        return f"{data[:limit]!r}... ({len(data):,} bytes)"
    return repr(data)


class Probe:
    """One case's view of the server: connections, transcript, deadline."""

    def __init__(self, address: tuple[str, int], deadline: float, shared: dict):
        self.address = address
        self.deadline = deadline
        self.shared = shared  # results computed once per run (Blackjack rounds)
        self.sent: list[str] = []
        self.received: list[str] = []
        self._conns: list[Conn] = []

    def time_left(self, step: float = STEP) -> float:
        left = min(step, self.deadline - time.monotonic())
        if left <= 0:
            raise CaseFailed(
                "the case to finish in its time",
                "the server answers too slowly: each answer should come at once",
            )
        return left

    def connect(self, label: str | None = None) -> Conn:
        conn = Conn(self, label)
        self._conns.append(conn)
        return conn

    def close_all(self) -> None:
        for conn in self._conns:
            conn.close()
        self._conns.clear()


class Conn:
    """One connection: send bytes or lines, read lines or bytes, all bounded."""

    def __init__(self, probe: Probe, label: str | None = None) -> None:
        self.probe = probe
        self.label = label
        self.buffer = bytearray()
        self.endings: list[bytes] = []  # how each line read was ended
        where = format_address(*probe.address)
        try:
            self.sock = socket.create_connection(
                probe.address, timeout=probe.time_left(CONNECT)
            )
        except OSError as exc:
            self._note_received(f"(could not connect: {exc.strerror or exc})")
            raise Closed(f"a connection to {where}") from None

    def _tag(self, text: str) -> str:
        return f"[{self.label}] {text}" if self.label else text

    def _note_sent(self, text: str) -> None:
        self.probe.sent.append(self._tag(text))

    def _note_received(self, text: str) -> None:
        self.probe.received.append(self._tag(text))

    # -- sending ------------------------------------------------------------

    def send(self, data: bytes, as_text: str | None = None) -> None:
        """Send ``data`` whole; the server must take it within the step's time."""
        self._note_sent(shown(data) if as_text is None else as_text)
        self.sock.settimeout(self.probe.time_left())
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise CaseFailed(
                "the server to read what it was sent",
                "the server stopped reading: it must keep calling recv",
            ) from None
        except OSError:
            self._note_received("(the server closed the connection)")
            raise Closed("the server to read what it was sent") from None

    def send_line(self, text: str, end: bytes = b"\r\n") -> None:
        self.send(text.encode("latin-1") + end, as_text=text)

    def shut_write(self) -> None:
        """Half-close: the server's recv returns b'' from now on."""
        self._note_sent("(the client closes its sending side: SHUT_WR)")
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            raise Closed("the connection still open") from None

    # -- receiving ----------------------------------------------------------

    def _recv(self, expected: str, until: float) -> bytes:
        wait = min(until - time.monotonic(), self.probe.time_left())
        if wait <= 0:
            self._note_received(f"(nothing more within {STEP:g} s)")
            raise Silent(expected)
        if hasattr(socket, "TCP_QUICKACK"):
            # Acknowledge at once, so a server sending a line per send() is
            # not held up by Nagle's algorithm waiting on a delayed ACK.
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(65536)
        except TimeoutError:
            self._note_received(f"(nothing within {STEP:g} s)")
            raise Silent(expected) from None
        except ConnectionResetError:
            self._note_received("(the server reset the connection)")
            raise Closed(expected) from None

    def read_line(self, expected: str) -> str:
        """The next line, without its LF or CRLF (its ending is in ``endings``)."""
        until = time.monotonic() + STEP
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > MAX_LINE:
                self._note_received(
                    f"({len(self.buffer):,} bytes without a newline: "
                    f"{bytes(self.buffer[:40])!r}...)"
                )
                raise CaseFailed(expected)
            data = self._recv(expected, until)
            if not data:
                if self.buffer:
                    self._note_received(shown(bytes(self.buffer)) + "  (no newline)")
                self._note_received("(the server closed the connection)")
                raise Closed(expected)
            self.buffer += data
        raw = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        self.endings.append(b"\r\n" if raw.endswith(b"\r\n") else b"\n")
        line = raw.rstrip(b"\r\n").decode("latin-1")
        self._note_received(shown(raw.rstrip(b"\r\n"), limit=200))
        return line

    def read_bytes(self, count: int, expected: str) -> bytes:
        until = time.monotonic() + STEP
        while len(self.buffer) < count:
            data = self._recv(expected, until)
            if not data:
                self._note_received("(the server closed the connection)")
                raise Closed(expected)
            self.buffer += data
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        self._note_received(shown(data))
        return data

    def expect_close(self, expected: str) -> None:
        """The server closes next, sending nothing more."""
        until = time.monotonic() + STEP
        while True:
            if self.buffer:
                self._note_received(shown(bytes(self.buffer)))
                raise CaseFailed(expected)
            try:
                data = self._recv(expected, until)
            except Closed:
                return  # a reset closes too
            if not data:
                self._note_received("(the server closed the connection)")
                return
            self.buffer += data

    def stream(self, payload: bytes, *, half_close: bool = False) -> tuple[bytes, bool]:
        """Send ``payload`` while reading what comes back, as echo needs.

        Sending and reading at once means a server that never reads, or
        reads everything before echoing, shows up as no progress within the
        step's time rather than as two sides blocked on full buffers.
        Returns what came back and whether the server then closed (asked
        for with ``half_close``: SHUT_WR once everything is sent).
        """
        sock = self.sock
        sock.setblocking(False)
        received = bytearray()
        sent = 0
        closed = False
        self._note_sent(shown(payload))
        progress = time.monotonic()
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while not closed:
                if sent == len(payload) and not half_close:
                    if len(received) >= len(payload):
                        break
                wait = min(progress + STEP - time.monotonic(), self.probe.time_left())
                if wait <= 0:
                    self._note_received(
                        f"(no progress for {STEP:g} s: {sent:,} of {len(payload):,} "
                        f"bytes sent, {len(received):,} back)"
                    )
                    break
                for _, events in selector.select(wait):
                    if events & selectors.EVENT_WRITE:
                        try:
                            count = sock.send(payload[sent : sent + 65536])
                        except BlockingIOError:
                            count = 0
                        except OSError:
                            closed = True
                            break
                        sent += count
                        progress = time.monotonic() if count else progress
                        if sent == len(payload):
                            if half_close:
                                self._note_sent(
                                    "(the client closes its sending side: SHUT_WR)"
                                )
                                sock.shutdown(socket.SHUT_WR)
                            selector.modify(sock, selectors.EVENT_READ)
                    if events & selectors.EVENT_READ:
                        try:
                            data = sock.recv(65536)
                        except BlockingIOError:
                            continue
                        except OSError:
                            data = b""
                        if not data:
                            closed = True
                            break
                        received += data
                        progress = time.monotonic()
                        if len(received) > len(payload) + MAX_LINE:
                            break  # more than was sent: a flood
        sock.setblocking(True)
        if received:
            self._note_received(shown(bytes(received)))
        if closed:
            self._note_received("(the server closed the connection)")
        return bytes(received), closed

    def close(self) -> None:
        self.sock.close()


def run_cases(service: str, address: tuple[str, int], cases: list[Case]) -> CheckReport:
    """Run ``cases`` one after another against the server at ``address``."""
    _can_connect(address)
    shared: dict = {}
    began = time.monotonic()
    results = []
    for case in cases:
        start = time.monotonic()
        probe = Probe(address, min(start + CASE_BUDGET, began + RUN_BUDGET), shared)
        expected, hint = "", case.hint
        try:
            if start >= began + RUN_BUDGET:
                raise CaseFailed(
                    f"time left to run it (the run stops after {RUN_BUDGET:g} s)",
                    "the cases before it waited on a server that did not answer",
                )
            case.run(probe)
            passed = True
        except CaseFailed as failure:
            passed = False
            expected, hint = failure.expected, failure.hint or case.hint
        except OSError as exc:  # anything else the network does to a step
            passed = False
            probe.received.append(f"({exc})")
            expected = "the connection to work"
        finally:
            probe.close_all()
        results.append(
            CaseResult(
                name=case.name,
                group=case.group,
                title=case.title,
                passed=passed,
                sent=[] if passed else probe.sent[-SHOWN:],
                expected=expected,
                received=[] if passed else probe.received[-SHOWN:],
                hint="" if passed else hint,
                seconds=time.monotonic() - start,
            )
        )
    return CheckReport(
        service=service,
        address=address,
        results=results,
        seconds=time.monotonic() - began,
    )


def _can_connect(address: tuple[str, int]) -> None:
    where = format_address(*address)
    try:
        with socket.create_connection(address, timeout=CONNECT):
            pass
    except ConnectionRefusedError:
        raise CannotConnect(
            f"nothing listens on {where}: start the server first (or check the port)"
        ) from None
    except TimeoutError:
        raise CannotConnect(
            f"no answer from {where} within {CONNECT:g} s: is the server running?"
        ) from None
    except OSError as exc:
        raise CannotConnect(f"cannot connect to {where}: {exc}") from None
