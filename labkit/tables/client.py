"""TableClient: a connection to a tables server, as method calls and plain data.

    with TableClient(server, name="ann") as ann:   # a handle, or (host, port)
        ann.join(1)                   # SEATED, then the table's state
        ann.wait_for(lambda s: "BET" in s.my_actions)
        ann.bet(10)
        ann.wait_for(lambda s: s.my_actions or s.hands_settled)
        ...
        print(ann.state.seats, ann.state.dealer)

Version 2 pushes lines: another player's bet, a timer running out, the
dealer's cards arrive whether or not this connection asked for anything. So
one reader thread per client reads every line as it comes, feeds it to a
:class:`~labkit.tables.view.TableView`, wakes whoever waits, and calls the
observers (:meth:`TableClient.observe`). A method sends its command and
waits for its answer: the line the protocol promises (``SEATED`` and the
state, ``BET <seat> <n>``, ``ACTION <seat>:<hand> HIT``, ...) or the
``ERROR`` that says no, which raises :class:`ServerRefused`. The server
answers one connection's commands in order, so the first ``ERROR`` after a
command is that command's; one command is in flight at a time.

Every wait has a timeout, and a closed connection ends every wait with
ConnectionClosed. Observers run on the reader thread: they must be quick
and must not call the client's methods (which wait for the reader).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from ..blackjack.client import ServerRefused
from ..clients import DEFAULT_TIMEOUT, LineClient
from ..errors import ConnectionClosed
from .view import TableState, TableView

TRANSCRIPT = 5000  # lines kept, both ways
Observer = Callable[[str, TableState], None]

__all__ = ["ServerRefused", "TableClient"]


class _Pending:
    """A command in flight: the lines since it was sent, until its answer."""

    def __init__(self, done: Callable[[str], bool]) -> None:
        self.done = done
        self.lines: list[str] = []
        self.answered = threading.Event()
        self.cut_off = False  # the connection ended before the answer


class TableClient:
    """One connection to a ``tables`` server; see the module's docstring."""

    def __init__(
        self,
        target,
        port: int | None = None,
        *,
        name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.timeout = timeout
        self._lines = LineClient(target, port, timeout=timeout)
        self.greeting = self._lines.read_line()
        if not self.greeting.startswith("WELCOME labkit-blackjack/2"):
            self._lines.close()
            if self.greeting.startswith("ERROR "):  # BUSY: the server is full
                _, code, *text = self.greeting.split(" ", 2)
                raise ServerRefused(code, text[0] if text else "")
            raise ConnectionError(f"not a tables server: {self.greeting!r}")
        self._transcript: deque[tuple[str, str]] = deque(maxlen=TRANSCRIPT)
        self._transcript.append(("S", self.greeting))
        self._view = TableView()
        self._changed = threading.Condition()  # guards the view and _pending
        self._pending: _Pending | None = None
        self._one_command = threading.Lock()
        self._observers: list[Observer] = []
        self.stray_errors: deque[str] = deque(maxlen=100)  # ERRORs nobody awaited
        self.observer_errors: deque[BaseException] = deque(maxlen=100)
        self.closed = False
        self.reader = threading.Thread(
            target=self._read, name=f"labkit-table-client-{id(self):x}", daemon=True
        )
        self.reader.start()
        if name is not None:
            self.name(name)

    # -- what the client knows -----------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        return self._lines.address

    @property
    def state(self) -> TableState:
        """A copy of the table as this connection sees it now."""
        with self._changed:
            return self._view.snapshot()

    @property
    def transcript(self) -> list[tuple[str, str]]:
        """("C", sent) and ("S", received), in order (the last 5000)."""
        with self._changed:
            return list(self._transcript)

    def received(self) -> list[str]:
        """The server's lines in the transcript, in order."""
        return [line for who, line in self.transcript if who == "S"]

    def observe(self, observer: Observer) -> None:
        """Call ``observer(line, state)`` after every line (on the reader thread)."""
        self._observers.append(observer)

    def wait_for(
        self, condition: Callable[[TableState], object], timeout: float | None = None
    ) -> TableState:
        """Wait until ``condition(state)`` is true; that state, or TimeoutError."""
        wait = self.timeout if timeout is None else timeout
        end = time.monotonic() + wait
        with self._changed:
            while not condition(self._view.state):
                if self.closed:
                    raise ConnectionClosed("the server closed the connection")
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the table did not get there within {wait:g} s")
                self._changed.wait(left)
            return self._view.snapshot()

    # -- the lobby -----------------------------------------------------------

    def name(self, name: str) -> str:
        return self._ask(f"NAME {name}", _starts("NAME "))[-1].split()[1]

    def tables(self) -> list[tuple[int, ...]]:
        """(id, seated, seats, min bet, max bet) for every table."""
        rows: list[tuple[int, ...]] = []
        count: list[int] = []  # TABLES <n>, once it has come

        def done(line: str) -> bool:
            keyword, *numbers = line.split()
            if keyword == "TABLES":
                count.append(int(numbers[0]))
            elif keyword == "TABLE":
                rows.append(tuple(int(n) for n in numbers[:5]))
            return bool(count) and len(rows) >= count[0]

        self._ask("TABLES", done)
        return rows

    def join(self, table: int, token: str | None = None) -> TableState:
        """Sit at ``table`` (with a token: take back a seat); the state after."""
        command = f"JOIN {table}" + (f" {token}" if token else "")
        self._ask(command, _starts("STATE END"))
        return self.state

    def watch(self, table: int) -> TableState:
        self._ask(f"WATCH {table}", _starts("STATE END"))
        return self.state

    def leave(self) -> None:
        self._ask("LEAVE", _starts("LEFT "))

    def chips(self) -> int:
        return int(self._ask("CHIPS", _starts("CHIPS "))[-1].split()[2])

    def rebuy(self) -> int:
        return int(self._ask("REBUY", _starts("CHIPS "))[-1].split()[2])

    def quit(self) -> str:
        """QUIT: the server says BYE and closes."""
        try:
            return self._ask("QUIT", _starts("BYE"))[-1]
        finally:
            self.close()

    # -- at the table --------------------------------------------------------

    def bet(self, amount: int) -> TableState:
        seat = self._my_seat()
        self._ask(f"BET {amount}", _exactly(f"BET {seat} {amount}"))
        return self.state

    def hit(self) -> TableState:
        return self._act("HIT")

    def stand(self) -> TableState:
        return self._act("STAND")

    def double(self) -> TableState:
        return self._act("DOUBLE")

    def split(self) -> TableState:
        return self._act("SPLIT")

    def insure(self) -> TableState:
        """INSURE during the insurance window (``TURN 0:0 ... INSURE``)."""
        seat = self._my_seat()
        self._ask("INSURE", _exactly(f"ACTION {seat}:1 INSURE"))
        return self.state

    def _act(self, verb: str) -> TableState:
        seat = self._my_seat()
        turn = self.state.turn
        hand = turn[1] if turn is not None and turn[0] == seat else 0
        # Not the TIMEOUT one: a turn that ran out is not this command's answer.
        self._ask(verb, _exactly(f"ACTION {seat}:{hand} {verb}"))
        return self.state

    def _my_seat(self) -> int:
        seat = self.state.seat
        if seat is None:
            raise ServerRefused("NOT-NOW", "this client is not seated; join first")
        return seat

    # -- the connection ------------------------------------------------------

    def close(self) -> None:
        if not self.closed:
            try:  # wakes the reader at once: close() alone does not on Linux
                self._lines._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the server closed first
            self._lines.close()
        with self._changed:
            self.closed = True
            self._changed.notify_all()
        if self.reader is not threading.current_thread():
            self.reader.join(self.timeout)

    def __enter__(self) -> TableClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = self.state
        where = f"table {state.table} seat {state.seat}" if state.table else "lobby"
        return f"<TableClient {state.name or '?'} at {where}>"

    def _ask(self, command: str, done: Callable[[str], bool]) -> list[str]:
        """Send ``command``; the lines up to its answer. ERROR raises."""
        with self._one_command:
            pending = _Pending(done)
            with self._changed:
                if self.closed:
                    raise ConnectionClosed("the connection is closed")
                self._pending = pending
                # under the lock: the transcript keeps the wire's order
                self._lines.send_line(command)
                self._transcript.append(("C", command))
            try:
                if not pending.answered.wait(self.timeout):
                    raise TimeoutError(
                        f"no answer to {command!r} within {self.timeout:g} s"
                    )
            finally:
                with self._changed:
                    self._pending = None
            if pending.cut_off or not pending.lines:
                raise ConnectionClosed(f"the server closed the connection ({command})")
            last = pending.lines[-1]
            if last.startswith("ERROR "):
                _, code, *text = last.split(" ", 2)
                raise ServerRefused(code, text[0] if text else "")
            return pending.lines

    def _read(self) -> None:
        """The reader thread: every line into the view, then wake and tell."""
        while True:
            try:
                line = self._lines.read_line(self.timeout)
            except TimeoutError:
                if self.closed:
                    break
                continue  # a quiet table: wait on
            except Exception:
                break
            answered = None
            with self._changed:
                self._transcript.append(("S", line))
                self._view.received(line, time.monotonic())
                pending = self._pending
                if pending is not None and not pending.answered.is_set():
                    pending.lines.append(line)
                    if line.startswith("ERROR ") or pending.done(line):
                        answered = pending
                elif line.startswith("ERROR "):
                    self.stray_errors.append(line)
                self._changed.notify_all()
                state = self._view.snapshot() if self._observers else None
            # Outside the lock (an observer may take its own, then read the
            # state), and before the answer: a method returns after its
            # observers have seen what it waited for.
            for observer in list(self._observers):
                try:
                    observer(line, state)  # type: ignore[arg-type]
                except Exception as error:
                    self.observer_errors.append(error)
            if answered is not None:
                answered.answered.set()
        with self._changed:
            self.closed = True
            pending = self._pending
            self._changed.notify_all()
        if pending is not None and not pending.answered.is_set():
            pending.cut_off = True
            pending.answered.set()
        for observer in list(self._observers):
            try:
                observer("", self._view.snapshot())  # "": the connection ended
            except Exception as error:
                self.observer_errors.append(error)


def _starts(prefix: str) -> Callable[[str], bool]:
    return lambda line: line.startswith(prefix)


def _exactly(text: str) -> Callable[[str], bool]:
    return lambda line: line == text
