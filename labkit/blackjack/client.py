"""A Blackjack client: the protocol as method calls and plain data.

    with BlackjackClient(server) as game:  # a server handle, or (host, port)
        table = game.deal()  # Table(dealer=..., player=..., actions=...)
        while table.actions:
            table = game.hit() if table.player.total < 17 else game.stand()
        print(table.result, table.score)

Each call sends one command and reads exactly the lines the protocol promises
for it (``deal``: until TURN, or until SCORE when the round ends at once).
Every line goes through the protocol :class:`~labkit.blackjack.check.Checker`,
so a server that breaks the protocol raises ProtocolError quoting the line;
an ``ERROR`` answer raises :class:`ServerRefused`. Lines with a keyword this
client does not know are skipped, as the protocol asks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..clients import DEFAULT_TIMEOUT, ConnectionClosed, LineClient
from .check import Checker
from .game import Hand, Result, Score, Turn
from .protocol import Error, Event, Info, Welcome


class ServerRefused(Exception):
    """The server answered ``ERROR <code> <text>``."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Table:
    """What the player sees now: the hands, the moves allowed, the last result."""

    dealer: Hand | None = None  # hidden (upcard only) until the reveal
    player: Hand | None = None
    actions: tuple[str, ...] = ()  # ("HIT", "STAND") during the player's turn
    result: Result | None = None  # of the round just settled; None while in play
    score: Score | None = None  # None until the server has sent one

    @property
    def in_play(self) -> bool:
        return self.dealer is not None and self.result is None


class BlackjackClient:
    """One connection to a Blackjack server; see the module's docstring."""

    def __init__(
        self, target, port: int | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._lines = LineClient(target, port, timeout=timeout)
        self._checker = Checker()
        self.table = Table()
        self.events: list[Event] = []  # what the last call received, parsed
        try:
            while not (self._checker.greeted or self._checker.closed):
                event = self._checker.received(self._lines.read_line())
                if isinstance(event, Error):
                    raise ServerRefused(event.code, event.text)  # BUSY
        except BaseException:
            self.close()
            raise
        self.welcome: Welcome = event

    @property
    def address(self) -> tuple[str, int]:
        return self._lines.address

    @property
    def transcript(self) -> list[tuple[str, str]]:
        """The recent lines both ways: ("C", sent) and ("S", received)."""
        return list(self._lines.transcript)

    def deal(self) -> Table:
        """Start a round; returns the table after the deal."""
        self._exchange("DEAL")
        return self.table

    def hit(self) -> Table:
        self._exchange("HIT")
        return self.table

    def stand(self) -> Table:
        self._exchange("STAND")
        return self.table

    def score(self) -> Score:
        self._exchange("SCORE")
        assert self.table.score is not None  # the checker saw a SCORE line
        return self.table.score

    def help(self) -> list[str]:
        """The server's INFO lines.

        HELP's answer has no end marker, so a SCORE follows it: its answer
        ends the INFO lines without waiting on a timer.
        """
        events = self._exchange("HELP", "SCORE")
        return [event.text for event in events if isinstance(event, Info)]

    def quit(self) -> str:
        """Say goodbye; returns the text of the server's BYE."""
        events = self._exchange("QUIT")
        return events[-1].text  # the checker insists on BYE

    def close(self) -> None:
        self._lines.close()

    def __enter__(self) -> BlackjackClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _exchange(self, *commands: str) -> list[Event]:
        if self._checker.closed:
            raise ConnectionClosed("the server has closed this session")
        try:
            for command in commands:
                self._lines.send_line(command)
                self._checker.sent(command)
        except (BrokenPipeError, ConnectionResetError):
            raise ConnectionClosed("the server closed the connection") from None
        events: list[Event] = []
        while self._checker.awaiting_reply:
            event = self._checker.received(self._lines.read_line())
            if event is not None:
                events.append(event)
                self._see(event)
        self.events = events
        if self._checker.closed:
            self.close()
        for event in events:
            if isinstance(event, Error):
                raise ServerRefused(event.code, event.text)
        return events

    def _see(self, event: Event) -> None:
        table = self.table
        if isinstance(event, Hand):
            if event.hidden:  # a new round
                table = Table(dealer=event, score=table.score)
            elif event.who == "DEALER":
                table = replace(table, dealer=event, actions=())
            else:
                table = replace(table, player=event, actions=())
        elif isinstance(event, Turn):
            table = replace(table, actions=event.actions)
        elif isinstance(event, Result):
            table = replace(table, result=event)
        elif isinstance(event, Score):
            table = replace(table, score=event)
        self.table = table
