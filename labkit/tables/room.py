"""The lobby and the tables of one server: the state every connection shares.

One lock for the whole room
---------------------------
Every command, every timer and every disconnect runs under one lock (not
one per table): names are unique on the whole server, a player moves
between the lobby and the tables, and a teaching server's tables are never
busy enough for the lock to be felt. The lines a call produces are pushed
to their connections *while the lock is held*, so the order in which lines
are made is the order in which every connection's engine queues them:
every connection at a table gets the table lines in one order, whatever
the transport and whichever thread made them. A push never blocks (the
engine queues it, and drops a client that stops reading), so holding the
lock while pushing cannot stall the room. The lines one call makes for one
connection go out as one push: one write, not one small segment a line
(which Nagle's algorithm and delayed ACKs would hold up).

One clock thread
----------------
A table only notices time when it is called. The room's clock thread calls
each table whose deadline has come (betting, insurance, a turn, a
disconnected player's minute), and it handles lost connections: an engine
may report a close from inside a push (selectors' abort does), that is
while this thread or another holds the lock, so ``lost()`` only queues the
session and wakes the clock. The thread waits at most :data:`TICK` seconds
at a time, so it sees the server stop quickly and ``stop()`` never hangs.
A command wakes it only when it set a deadline earlier than the one the
clock waits for: a look at every table on every command would cost a
thousand players' server as much as the commands themselves.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from ..session import protocol_line
from . import lines
from .rules import Rules
from .table import Output, SeatEmptied, Send, Table

TICK = 0.25  # the longest the clock thread waits before looking again
NAME = re.compile(r"[A-Za-z0-9_-]{1,16}")
TABLE_VERBS = ("BET", "HIT", "STAND", "DOUBLE", "SPLIT", "INSURE")


class Member(Protocol):
    """What the room needs of a connection's session (see services/tables.py)."""

    name: str
    chips: int
    table: Table | None  # the table it plays at or watches
    unsettled: Table | None  # a table it left whose hand is not settled yet

    def push(self, data: bytes) -> None: ...


class Room:
    """The lobby and ``tables`` tables under one lock."""

    def __init__(
        self,
        tables: int = 4,
        rules: Rules | None = None,
        *,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if tables < 1:
            raise ValueError("a server needs at least 1 table")
        self.rules = rules or Rules()
        self.clock = clock
        self.tables = {
            number: Table(number, self.rules, rng=_rng(seed, number), clock=clock)
            for number in range(1, tables + 1)
        }
        self.lock = threading.Lock()
        self.wake = threading.Event()  # a new deadline, or a lost connection
        self.names: dict[str, Member] = {}
        self._guests = 0
        self._lost: deque[Member] = deque()  # appended from any thread
        self._outbox: dict[Member, list[bytes]] = {}  # this call's lines
        self._wakes_at = 0.0  # when the clock thread looks next (clock time)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the lock; before letting go, push each connection its lines."""
        with self.lock:
            try:
                yield
            finally:
                for member, chunks in self._outbox.items():
                    member.push(b"".join(chunks))
                self._outbox.clear()

    def _send(self, member: Member, text: str) -> None:
        self._outbox.setdefault(member, []).append(protocol_line(text))

    # -- from the connections ---------------------------------------------

    def arrive(self, member: Member) -> None:
        """A new connection: a guest name and the starting stack."""
        with self._locked():
            while True:
                self._guests += 1
                name = f"guest{self._guests}"
                if name not in self.names:
                    break
            member.name, member.chips = name, self.rules.stack
            member.table = member.unsettled = None
            self.names[name] = member

    def lost(self, member: Member) -> None:
        """The connection closed: handled by the clock thread (see above)."""
        self._lost.append(member)
        self.wake.set()

    def command(self, member: Member, verb: str, argument: str) -> None:
        """One command of the lobby or of a table; the answers are pushed."""
        lobby = {
            "NAME": self._name,
            "TABLES": self._tables,
            "JOIN": self._join,
            "WATCH": self._watch,
            "LEAVE": self._leave,
            "CHIPS": self._chips,
            "REBUY": self._rebuy,
        }
        with self._locked():
            before = member.table
            if verb in TABLE_VERBS:
                self._at_table(member, verb, argument)
            elif verb in lobby:
                lobby[verb](member, argument)
            else:
                self._error(
                    member, "UNKNOWN-COMMAND", f"{verb} is not a command; try TABLES"
                )
            # Only the sender's table (before and after JOIN or LEAVE) changed.
            touched = {before, member.table} - {None}
            sooner = any(
                (due := table.deadline) is not None and due < self._wakes_at
                for table in touched
            )
        if sooner:
            self.wake.set()

    # -- the clock thread -----------------------------------------------------

    def run_clock(self, stopped: Callable[[], bool]) -> None:
        """Fire the tables' timers and handle lost connections until ``stopped()``."""
        while not stopped():
            self.wake.clear()
            with self._locked():
                while self._lost:
                    self._disconnect(self._lost.popleft())
                now = self.clock()
                for table in self.tables.values():
                    if table.deadline is not None and table.deadline <= now:
                        self._route(table, table.deadline_passed())
                due = [
                    t.deadline for t in self.tables.values() if t.deadline is not None
                ]
                self._wakes_at = min([*due, self.clock() + TICK])
            self.wake.wait(max(0.0, self._wakes_at - self.clock()))

    # -- the lobby's commands (under the lock) ----------------------------------

    def _name(self, member: Member, argument: str) -> None:
        table = member.table
        if table is not None and table.seat_of(member) is not None:
            self._error(member, "NOT-NOW", "a seated player keeps their name")
        elif not NAME.fullmatch(argument.strip()):
            self._error(member, "BAD-NAME", "a name is 1 to 16 of A-Z a-z 0-9 - _")
        elif self.names.get(name := argument.strip(), member) is not member:
            self._error(member, "NAME-TAKEN", f"{name} is taken")
        else:
            del self.names[member.name]
            member.name = name
            self.names[name] = member
            self._send(member, f"NAME {name}")

    def _tables(self, member: Member, argument: str) -> None:
        rules = self.rules
        self._send(member, f"TABLES {len(self.tables)}")
        for number, table in self.tables.items():
            self._send(
                member,
                f"TABLE {number} {len(table.seats)} {rules.seats} "
                f"{rules.min_bet} {rules.max_bet}",
            )

    def _join(self, member: Member, argument: str) -> None:
        words = argument.split()
        table = self._table_for(member, words[0] if words else "")
        if table is None:
            return
        if len(words) > 1:
            self._route(table, table.rejoin(member, words[1]))
            seat = table.seat_of(member)
            if seat is not None:  # the seat's name comes back with it
                if self.names.get(seat.name, member) is member:
                    del self.names[member.name]
                    member.name = seat.name
                    self.names[seat.name] = member
                member.chips = seat.chips
        else:
            self._route(table, table.join(member, member.name, member.chips))
        if table.at_table(member):
            member.table = table

    def _watch(self, member: Member, argument: str) -> None:
        table = self._table_for(member, argument.strip())
        if table is not None:
            self._route(table, table.watch(member))
            member.table = table

    def _leave(self, member: Member, argument: str) -> None:
        table = member.table
        if table is None:
            self._error(member, "NOT-NOW", "you are at no table")
            return
        member.table = None
        seat = table.seat_of(member)
        if seat is not None and seat.hands:
            member.unsettled = table  # until its SeatEmptied, after settlement
        self._route(table, table.command(member, "LEAVE"))

    def _chips(self, member: Member, argument: str) -> None:
        if member.table is not None and member.table.seat_of(member) is not None:
            self._route(member.table, member.table.command(member, "CHIPS"))
        else:
            self._send(member, lines.chips_line(0, member.chips))

    def _rebuy(self, member: Member, argument: str) -> None:
        table = member.table
        if table is not None and table.seat_of(member) is not None:
            self._route(table, table.command(member, "REBUY"))
        elif member.chips >= self.rules.min_bet or member.unsettled is not None:
            self._error(
                member,
                "NOT-NOW",
                f"REBUY is for a player below {self.rules.min_bet} chips "
                "with no hand in play",
            )
        else:
            member.chips = self.rules.stack
            self._send(member, lines.chips_line(0, member.chips))

    def _at_table(self, member: Member, verb: str, argument: str) -> None:
        if member.table is None:
            self._error(member, "NOT-NOW", "you are at no table; JOIN first")
        else:
            table = member.table
            self._route(table, table.command(member, verb, *argument.split()[:1]))

    def _table_for(self, member: Member, word: str) -> Table | None:
        """The table a JOIN or WATCH names, or None after the error."""
        if member.table is not None:
            number = member.table.number
            self._error(member, "NOT-NOW", f"you are at table {number}; LEAVE first")
            return None
        if member.unsettled is not None:
            number = member.unsettled.number
            self._error(
                member, "NOT-NOW", f"your hand at table {number} is not settled yet"
            )
            return None
        table = self.tables.get(int(word)) if word.isdigit() else None
        if table is None:
            self._error(
                member, "NO-SUCH-TABLE", f"the tables are 1 to {len(self.tables)}"
            )
        return table

    # -- lines out (under the lock) -------------------------------------------

    def _disconnect(self, member: Member) -> None:
        if self.names.get(member.name) is member:
            del self.names[member.name]
        if member.table is not None:
            table, member.table = member.table, None
            self._route(table, table.disconnect(member))

    def _route(self, table: Table, outputs: list[Output]) -> None:
        """Push each line to its connections, in the table's order."""
        for out in outputs:
            if isinstance(out, Send):
                for member in out.to:
                    self._send(member, out.line)
            elif isinstance(out, SeatEmptied):
                self._emptied(table, out)

    def _emptied(self, table: Table, out: SeatEmptied) -> None:
        """A seat is gone: its chips go back to the player's connection."""
        member: Member = out.who  # type: ignore[assignment]
        member.chips = out.chips
        if member.unsettled is table:
            member.unsettled = None
        if member.table is table and not table.at_table(member):
            member.table = None  # unseated for idling: EMPTY was the last line

    def _error(self, member: Member, code: str, text: str) -> None:
        self._send(member, lines.error_line(code, text))


def _rng(seed: int | None, table: int) -> random.Random:
    """Each table its own shoe; with a seed, the same one on every run."""
    return random.Random() if seed is None else random.Random(f"{seed}:{table}")
