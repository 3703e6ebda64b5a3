"""BlackjackTable: a live Blackjack table of buttons and cards, over a real socket.

    >>> table = BlackjackTable(server)  # a server handle, or (host, port)
    >>> table                           # shows it; or display(table.widget)
    >>> table.deal_button.click()       # what a click does, from a cell
    >>> print(table)                    # the state in words

Every click is one request and its reply, through
:class:`~labkit.blackjack.client.BlackjackClient`, in the click handler (on
the kernel's main thread); then the table redraws from the client's plain
data. Deal, Hit and Stand are enabled exactly when the protocol accepts
them: Deal when no round is in play, Hit and Stand when the server's last
``TURN`` line lists them. When the server goes away or breaks the protocol
the table says so in one sentence and offers Reconnect, which follows a
server started again by its cell (:class:`~.connected.ConnectedWidget`).
Cards, hands and results read as :mod:`labkit.blackjack.words` says them.

The page contract (stable; tests and scripts rely on it): the root has class
``labkit-bj-table``; the buttons ``labkit-bj-deal``, ``labkit-bj-hit``,
``labkit-bj-stand`` (and ``labkit-bj-reconnect``); the hands
``labkit-bj-dealer`` and ``labkit-bj-player`` hold ``.labkit-card[data-card]``
elements; a settled round shows ``.labkit-bj-result[data-outcome]``; the score
is ``labkit-bj-score``.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import ipywidgets as widgets

from ..addresses import format_address
from ..blackjack import words
from ..blackjack.client import BlackjackClient, Table
from ..blackjack.game import Hand, Result, Score
from ..clients import DEFAULT_TIMEOUT
from . import cards
from .connected import ConnectedWidget
from .style import stylesheet, transcript_html

TRANSCRIPT_LINES = 200  # shown in the panel; the client keeps more


class BlackjackTable(ConnectedWidget[BlackjackClient]):
    """A Blackjack table for one connection; see the module's docstring."""

    def __init__(
        self,
        target,
        port: int | None = None,
        *,
        transcript: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(target, port, timeout=timeout)
        self.rounds = 0  # deals on this table, across connections
        self._last = Table()  # what the table shows when no client is left
        self._transcript: list[tuple[str, str]] = []  # of the last connection
        self._build(transcript)
        self._connect()

    # -- the state, for cells ----------------------------------------------

    @property
    def table(self) -> Table:
        """The client's view: hands, actions, result, score (plain data)."""
        return self.client.table if self.client is not None else self._last

    @property
    def hands(self) -> tuple[Hand | None, Hand | None]:
        """(dealer, player)."""
        return self.table.dealer, self.table.player

    @property
    def dealer(self) -> Hand | None:
        return self.table.dealer

    @property
    def player(self) -> Hand | None:
        return self.table.player

    @property
    def actions(self) -> tuple[str, ...]:
        return self.table.actions if self.connected else ()

    @property
    def result(self) -> Result | None:
        return self.table.result

    @property
    def score(self) -> Score | None:
        return self.table.score

    @property
    def status(self) -> str:
        """What happens now, as the status line says it."""
        table = self.table
        if not self.connected:
            return f"Not connected. {self.next_step()}"
        if table.dealer is None:
            return "Click Deal to start a round."
        if table.in_play and table.actions:
            total = table.player.total if table.player else "?"
            return f"You have {total}. Hit takes a card; Stand ends your turn."
        if table.in_play:
            return "The dealer is playing."
        return "Round over. Click Deal for another round."

    @property
    def transcript(self) -> list[tuple[str, str]]:
        """The raw lines of the last connection: ("C", sent), ("S", received).

        They stay after the connection is lost, and after a Reconnect that
        fails; a new connection starts a new transcript.
        """
        return self._transcript

    def __str__(self) -> str:
        table = self.table
        lines = [
            f"dealer: {words.hand_text(table.dealer)}",
            f"player: {words.hand_text(table.player)}",
        ]
        if table.result is not None:
            lines.append(f"result: {words.result_text(table.result)}")
        lines.append(f"score:  {words.score_text(table.score)}")
        lines.append(f"now:    {self.status}")
        if self.message:
            lines.append(f"note:   {self.message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        where = format_address(*self.address)
        state = "connected" if self.connected else "not connected"
        return f"<BlackjackTable {where}, {state}, {self.rounds} rounds>"

    # -- the connection (a new one is a new seat: the tally starts again) ----

    def _open(self, address: tuple[str, int]) -> BlackjackClient:
        return BlackjackClient(address, timeout=self.timeout)

    def _opened(self) -> None:
        self._last = Table()
        self._transcript = []

    def _closing(self, client: BlackjackClient) -> None:
        self._last = client.table
        self._transcript = client.transcript

    # -- what the buttons do -------------------------------------------------

    def _play(self, button: widgets.Button, command: str) -> None:
        # Button.click() from a cell runs the handler even when the button is
        # disabled (the browser would not): honour the protocol anyway.
        if button.disabled or self.client is None:
            self.message = f"{button.description} is not possible now."
            self._redraw()
            return
        move: Callable[[], Table] = getattr(self.client, command)
        try:
            if command == "deal":
                self.rounds += 1  # a new round number: the hands redraw
            move()
        except Exception as error:
            self._explain(error)
        else:
            self.message = ""
        self._redraw()

    # -- the widgets -------------------------------------------------------

    def _build(self, show_transcript: bool) -> None:
        own = self._own

        html, button = self._html, self._button
        title = html("labkit-bj-title")
        title.value = "\u2660 Blackjack <span class='labkit-suit-red'>\u2665</span>"
        self.score_html = html("labkit-bj-score")
        self.dealer_html = html("labkit-bj-dealer")
        self.player_html = html("labkit-bj-player")
        self.result_html = html("labkit-bj-banner")
        self.status_html = html("labkit-bj-status")
        self.message_html = self._message_area("labkit-bj-message")
        self.transcript_html = html("labkit-bj-transcript")

        self.deal_button = button("Deal", "labkit-bj-deal", "success", "DEAL")
        self.hit_button = button("Hit", "labkit-bj-hit", "primary", "HIT")
        self.stand_button = button("Stand", "labkit-bj-stand", "warning", "STAND")
        self.reconnect_button = self._reconnect_button("labkit-bj-reconnect")
        self.transcript_button = own(
            widgets.ToggleButton(
                value=show_transcript,
                description="Transcript",
                tooltip="show the protocol lines both ways",
            )
        )
        self.transcript_button.layout.width = "auto"
        self.transcript_button.add_class("labkit-bj-transcript-toggle")

        self.deal_button.on_click(lambda b: self._play(b, "deal"))
        self.hit_button.on_click(lambda b: self._play(b, "hit"))
        self.stand_button.on_click(lambda b: self._play(b, "stand"))
        self.transcript_button.observe(lambda change: self._redraw(), "value")

        header = own(widgets.HBox([title, self.score_html]))
        header.add_class("labkit-bj-header")
        spacer = html("labkit-bj-spacer")
        buttons = own(
            widgets.HBox(
                [
                    self.deal_button,
                    self.hit_button,
                    self.stand_button,
                    spacer,
                    self.reconnect_button,
                    self.transcript_button,
                ]
            )
        )
        buttons.add_class("labkit-bj-buttons")
        self.widget = own(
            widgets.VBox(
                [
                    own(stylesheet()),
                    header,
                    self.dealer_html,
                    self.player_html,
                    self.result_html,
                    self.status_html,
                    buttons,
                    self.message_html,
                    self.transcript_html,
                ]
            )
        )
        self.widget.add_class("labkit-bj-table")

    def _redraw(self) -> None:
        table = self.table
        connected = self.connected
        if connected:
            self._transcript = self.client.transcript
        self.dealer_html.value = cards.hand_html("Dealer", table.dealer, self.rounds)
        self.player_html.value = cards.hand_html("You", table.player, self.rounds)
        self.result_html.value = cards.result_html(table.result, self.rounds)
        self.result_html.layout.display = None if table.result else "none"
        self.score_html.value = cards.score_html(table.score)
        self.status_html.value = escape(self.status)
        self._show_message(self.message_html)
        self.deal_button.disabled = not connected or table.in_play
        self.hit_button.disabled = "HIT" not in self.actions
        self.stand_button.disabled = "STAND" not in self.actions
        shown = self.transcript_button.value
        self.transcript_html.layout.display = None if shown else "none"
        if shown:  # skip the work (and the message to the page) when hidden
            self.transcript_html.value = transcript_html(
                self._transcript[-TRANSCRIPT_LINES:]
            )
