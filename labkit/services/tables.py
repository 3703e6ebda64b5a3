"""tables: Blackjack version 2, shared tables with chips (docs/protocol.md).

The game is :mod:`labkit.tables` (a sans-IO table per table, and the
:class:`~labkit.tables.room.Room` that holds them and the lobby under one
lock); this session only turns lines into room commands. One room per
server: :meth:`TablesSession.serving` builds it when the server starts, from
the service's options, and starts its clock thread with the server's
``start_thread``, so that ``stop()`` ends and joins it.

Every answer goes out by ``push``, never as a step's return value: lines
that other connections' commands and the clock make for this connection are
pushed too, and one path keeps them all in the order the room made them.
Only the last lines before a close (``BYE``, the idle error) are returned,
so that the engine sends them before it closes.
"""

from __future__ import annotations

from ..limits import DEFAULT_LIMITS, Limits
from ..session import LineSession, protocol_line
from ..tables import lines
from ..tables.room import Room
from ..tables.rules import Rules
from ..tables.table import Table

# The service's options that are table rules; the rest are the room's.
RULE_OPTIONS = ("decks", "h17", "bet_seconds", "turn_seconds", "reconnect_seconds")


class TablesSession(LineSession):
    """One connection to the tables: the lobby's and the tables' commands."""

    def __init__(
        self, peer: str, limits: Limits = DEFAULT_LIMITS, *, room: Room, **options
    ) -> None:
        super().__init__(peer, limits, **options)
        self.room = room
        # The room's, changed under its lock only (see Room.Member).
        self.name = ""
        self.chips = 0
        self.table: Table | None = None
        self.unsettled: Table | None = None
        room.arrive(self)

    @classmethod
    def serving(cls, server) -> None:
        """One room per server, built from the service's options."""
        options = dict(server.options)
        given = {name: options.pop(name) for name in RULE_OPTIONS if name in options}
        rules = Rules(**given)
        room = Room(options.pop("tables", 4), rules, seed=options.pop("seed", None))
        server.options = {**options, "room": room}
        server.start_thread(room.run_clock, "clock", lambda: server.stopping)

    def connection_made(self) -> bytes:
        return protocol_line(f"WELCOME {lines.VERSION} {self.name}: JOIN 1 to play")

    def connection_lost(self) -> None:
        self.room.lost(self)

    def handle_command(self, command: str, argument: str) -> None:
        self.room.command(self, command, argument)

    def send_bytes(self, data: bytes) -> None:
        if self.closing:
            super().send_bytes(data)  # returned, sent before the close
        else:
            self.push(data)

    def _handle_line(self, text: str) -> None:
        if text.split()[:1] and text.split()[0].upper() == "QUIT":
            self.close("QUIT")  # so that BYE is returned, not pushed
        super()._handle_line(text)

    def idle_timed_out(self) -> None:
        # A player or watcher waits for the others: never idle at a table.
        if self.table is not None or self.unsettled is not None:
            self.mark_active()
            return
        self.close("idle")
        super().idle_timed_out()
