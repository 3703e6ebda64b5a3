"""SharedTable: a seat (or a watcher's chair) at a version 2 table, as a widget.

    >>> table = SharedTable(server, name="ann")   # joins table 1
    >>> table                                     # shows every seat and the dealer
    >>> table.bet_buttons[10].click()             # what a click does, from a cell
    >>> print(table)                              # the table in words

Version 2 pushes lines: the other players' bets and moves, the timers, the
dealer. The widget's :class:`~labkit.tables.client.TableClient` reads them
on its reader thread and tells the widget, which redraws from there by
setting widget values only (never ``print`` or ``display``: output from a
thread lands in whatever cell runs). A click runs its command in the click
handler, on the kernel's main thread, and redraws too; one lock keeps the
two redraws from interleaving. The buttons follow the protocol: a chip
button while bets are open and this player has not bet, and Hit, Stand,
Double, Split and Insure exactly when the current ``TURN`` lists them for
this seat. A watcher (``watch=True``) sees everything and has no buttons
to press. Leave, Sit down and Watch move between the table and the lobby as
the protocol does (``LEAVE``, then ``JOIN`` or ``WATCH``). The time left to
bet or to act counts down in the browser, a CSS animation of an integer
property, so no thread of the kernel has to redraw every second.

The page contract (stable; tests rely on it): the root has class
``labkit-tbl``; each seat is ``.labkit-tbl-seat[data-seat]`` (with
``data-turn="yes"`` on the seat whose turn it is, ``data-me="yes"`` on this
player's) inside an HTML widget, its cards ``.labkit-card[data-card]``,
its chips ``.labkit-tbl-chips[data-chips]``, each settled hand's
``.labkit-tbl-result[data-outcome][data-net]``, and its insurance, once
settled, ``.labkit-tbl-insurance[data-net]``; the dealer is
``labkit-tbl-dealer``; the buttons are ``labkit-tbl-bet``
(one per chip, described ``Bet 10``, ``Bet 25``, ``Bet 100``),
``labkit-tbl-hit``, ``labkit-tbl-stand``, ``labkit-tbl-double``,
``labkit-tbl-split``, ``labkit-tbl-insure``, ``labkit-tbl-leave``,
``labkit-tbl-join``, ``labkit-tbl-watch`` and ``labkit-tbl-reconnect``; the
countdown is ``.labkit-tbl-countdown[data-seconds]`` in the status line.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from html import escape

import ipywidgets as widgets

from ..addresses import format_address
from ..blackjack import words
from ..clients import DEFAULT_TIMEOUT
from ..errors import ConnectionClosed
from ..tables import seats
from ..tables.client import ServerRefused, TableClient
from ..tables.view import SeatView, TableState
from . import cards
from .connected import ConnectedWidget
from .style import stylesheet, transcript_html

CHIPS = (10, 25, 100)
ACTIONS = ("HIT", "STAND", "DOUBLE", "SPLIT", "INSURE")
TRANSCRIPT_LINES = 200

CSS = """
.labkit-tbl { background: #0f6b3d; border: 6px solid #5b3a1e; border-radius: 18px;
  color: #f6f1e3; padding: 10px 14px; width: 720px; box-sizing: border-box; }
.labkit-tbl .widget-html, .labkit-tbl .widget-html-content {
  color: inherit; height: auto; line-height: 1.3; white-space: normal; }
.labkit-tbl-seats { display: flex; flex-wrap: wrap; gap: 8px; }
.labkit-tbl-seat { border: 2px solid rgba(255,255,255,0.25); border-radius: 10px;
  min-width: 150px; padding: 4px 8px; }
.labkit-tbl-seat[data-turn="yes"] { border-color: #ffd54f; }
.labkit-tbl-seat[data-me="yes"] { background: rgba(255,255,255,0.08); }
.labkit-tbl-seat .labkit-card { height: 56px; width: 40px; }
.labkit-tbl-seat .labkit-card-pip { font-size: 20px; }
.labkit-tbl-seat .labkit-card-corner { font-size: 11px; }
.labkit-tbl-clock { background: #ffd54f; height: 4px; margin-top: 3px;
  animation-name: labkit-tbl-shrink; animation-timing-function: linear;
  animation-fill-mode: forwards; }
@keyframes labkit-tbl-shrink { from { width: 100%; } to { width: 0%; } }
@property --labkit-left { syntax: "<integer>"; inherits: false; initial-value: 0; }
.labkit-tbl-countdown { animation: labkit-tbl-count linear forwards;
  counter-reset: labkit-left var(--labkit-left); }
.labkit-tbl-countdown::after { content: " " counter(labkit-left) " s left"; }
@keyframes labkit-tbl-count { from { --labkit-left: var(--labkit-from); }
  to { --labkit-left: 0; } }
"""


class SharedTable(ConnectedWidget[TableClient]):
    """One connection at a shared table; see the module's docstring."""

    def __init__(
        self,
        target,
        port: int | None = None,
        *,
        table: int = 1,
        name: str | None = None,
        watch: bool = False,
        transcript: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(target, port, timeout=timeout)
        self.table_id = table
        self.name = name
        self.watching = watch
        self._draw = threading.RLock()  # the reader's redraws and the clicks'
        self._last = TableState()  # what is shown once the connection is gone
        # (server handle, address, token) of the last seat: Reconnect takes it back
        self._seat_token: tuple[object, tuple[str, int], str] = (None, ("", 0), "")
        self._transcript: list[tuple[str, str]] = []
        self._build(transcript)
        self._connect()

    # -- the state, for cells ----------------------------------------------

    @property
    def connected(self) -> bool:
        return self.client is not None and not self.client.closed

    @property
    def state(self) -> TableState:
        return self.client.state if self.client is not None else self._last

    @property
    def actions(self) -> tuple[str, ...]:
        """What this player may do now: BET, or what the TURN lists for them."""
        return self.state.my_actions if self.connected else ()

    @property
    def transcript(self) -> list[tuple[str, str]]:
        if self.client is not None:
            return self.client.transcript
        return self._transcript

    @property
    def status(self) -> str:
        state = self.state
        if not self.connected:
            return f"Not connected. {self.next_step()}"
        if state.table is None:
            return "In the lobby: Sit down or Watch."
        where = f"Table {state.table}"
        if state.watching:
            where += " (watching)"
        actions = state.my_actions
        if "BET" in actions:
            return f"{where}: bets are open. Click a chip to bet."
        if "INSURE" in actions:
            return f"{where}: the dealer shows an ace. Insure, or wait."
        if actions:
            return f"{where}: your turn. {', '.join(a.title() for a in actions)}."
        if state.turn == (0, 0):
            return f"{where}: insurance is offered."
        if state.turn is not None:
            return f"{where}: seat {state.turn[0]} is playing."
        if state.betting:
            return f"{where}: bets are open."
        if state.in_play:
            return f"{where}: the dealer is playing."
        return f"{where}: waiting for players."

    def __str__(self) -> str:
        state = self.state
        lines = [f"dealer: {words.hand_text(state.dealer)}"]
        for seat in state.seats.values():
            lines.append(f"seat {seat.number}: {seat_text(seat)}")
        lines.append(f"now:    {self.status}")
        if self.message:
            lines.append(f"note:   {self.message}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        where = format_address(*self.address)
        state = "connected" if self.connected else "not connected"
        return f"<SharedTable {where} table {self.table_id}, {state}>"

    # -- the connection ------------------------------------------------------

    def _open(self, address: tuple[str, int]) -> TableClient:
        client = TableClient(address, timeout=self.timeout)
        try:
            client.observe(self._on_line)
            if self.watching:
                if self.name:
                    _settling(lambda: client.name(self.name), "NAME-TAKEN")
                client.watch(self.table_id)
            elif not self._take_back_seat(client, address):
                if self.name:
                    _settling(lambda: client.name(self.name), "NAME-TAKEN")
                client.join(self.table_id)
            if not self.watching and self.server is None:
                # a server outside this kernel outlives it: keep the token on disk
                seats.remember(address, self.table_id, self.name, client.state.token)
        except BaseException:
            client.close()
            raise
        return client

    def _take_back_seat(self, client: TableClient, address: tuple[str, int]) -> bool:
        """Reconnect to the same server: JOIN with the seat's token.

        The seat, its chips and its name come back (the protocol keeps them
        60 s). Only for the server that gave the token: a server started
        again has a new room, where no seat waits.
        """
        server, where, token = self._seat_token
        if not token or where != address or server is not self.server:
            return self._take_back_remembered(client, address)
        try:
            _settling(lambda: client.join(self.table_id, token), "BAD-TOKEN")
        except ServerRefused:
            return False  # expired, or taken back already: sit down afresh
        return True

    def _take_back_remembered(self, client: TableClient, address) -> bool:
        """JOIN with the token a kernel before this one kept on disk
        (:mod:`labkit.tables.seats`): only for a server outside the kernel."""
        token = None if self.server else seats.recall(address, self.table_id, self.name)
        if token is None:
            return False
        try:  # the old kernel's connection may be closing still, as below
            _settling(lambda: client.join(self.table_id, token), "BAD-TOKEN")
        except ServerRefused:
            seats.forget(address, self.table_id, self.name)
            return False  # expired, or another server on that port: sit afresh
        return True

    def _opened(self) -> None:
        self._last = TableState()

    def _closing(self, client: TableClient) -> None:
        self._last = client.state
        self._transcript = client.transcript
        self._seat_token = (self.server, client.address, self._last.token)

    def _on_line(self, line: str, state: TableState) -> None:
        """The reader thread: a line arrived ("" when the connection ended)."""
        if self.closed:
            return
        if line == "":
            self._explain_later(ConnectionClosed("the server closed the connection"))
        self._redraw()

    def _explain_later(self, error: BaseException) -> None:
        # On the reader thread: say so, but leave closing to the main thread.
        from .problems import explain

        self.message = explain(error, self.address, self.next_step()).message

    # -- what the buttons do -------------------------------------------------

    def _when_clicked(
        self,
        button: widgets.Button,
        allowed: Callable[[], bool],
        move: Callable[[TableClient], object],
    ) -> None:
        """On a click of ``button``: ``move(client)`` if ``allowed()``, then redraw.

        Button.click() from a cell runs the handler even when the button is
        disabled (the browser would not): honour the protocol anyway. Ask
        the client's state, not the button: a line that just arrived may not
        have redrawn the buttons yet.
        """

        def clicked(_: widgets.Button) -> None:
            if not (self.connected and allowed()):
                self.message = f"{button.description} is not possible now."
            else:
                try:
                    move(self.client)  # type: ignore[arg-type]
                except Exception as error:
                    self._explain(error)
                else:
                    self.message = ""
            self._redraw()

        button.on_click(clicked)

    def _at_table(self) -> bool:
        return self.state.table is not None

    def _in_lobby(self) -> bool:
        return self.state.table is None

    def _sit(self, client: TableClient, watch: bool) -> None:
        client.watch(self.table_id) if watch else client.join(self.table_id)
        self.watching = watch  # what Reconnect does next

    # -- the widgets -------------------------------------------------------

    def _build(self, show_transcript: bool) -> None:
        own = self._own

        html, button = self._html, self._button
        title = html("labkit-tbl-title")
        title.value = "\u2660 Blackjack tables \u2665"
        style = own(widgets.HTML(f"<style>{CSS}</style>"))
        style.layout.display = "none"
        self.dealer_html = html("labkit-tbl-dealer")
        self.seats_html = html("labkit-tbl-seats-box")
        self.status_html = html("labkit-tbl-status")
        self.message_html = self._message_area("labkit-tbl-message")
        self.transcript_html = html("labkit-tbl-transcript")

        self.bet_buttons = {
            amount: button(
                f"Bet {amount}", "labkit-tbl-bet", "success", f"BET {amount}"
            )
            for amount in CHIPS
        }
        for amount, b in self.bet_buttons.items():
            self._when_clicked(
                b, lambda: "BET" in self.actions, lambda c, n=amount: c.bet(n)
            )
        self.action_buttons = {
            verb: button(verb.title(), f"labkit-tbl-{verb.lower()}", "primary", verb)
            for verb in ACTIONS
        }
        for verb, b in self.action_buttons.items():
            self._when_clicked(
                b,
                lambda v=verb: v in self.actions,
                lambda c, v=verb: getattr(c, v.lower())(),
            )
        self.hit_button = self.action_buttons["HIT"]
        self.stand_button = self.action_buttons["STAND"]
        self.double_button = self.action_buttons["DOUBLE"]
        self.split_button = self.action_buttons["SPLIT"]
        self.insure_button = self.action_buttons["INSURE"]
        self.leave_button = button("Leave", "labkit-tbl-leave", "", "LEAVE")
        self.join_button = button("Sit down", "labkit-tbl-join", "", "JOIN")
        self.watch_button = button("Watch", "labkit-tbl-watch", "", "WATCH")
        lobby = self._in_lobby
        self._when_clicked(self.leave_button, self._at_table, lambda c: c.leave())
        self._when_clicked(self.join_button, lobby, lambda c: self._sit(c, False))
        self._when_clicked(self.watch_button, lobby, lambda c: self._sit(c, True))
        self.reconnect_button = self._reconnect_button("labkit-tbl-reconnect")
        self.transcript_button = own(
            widgets.ToggleButton(value=show_transcript, description="Transcript")
        )
        self.transcript_button.layout.width = "auto"
        self.transcript_button.add_class("labkit-tbl-transcript-toggle")
        self.transcript_button.observe(lambda change: self._redraw(), "value")

        chips = own(widgets.HBox(list(self.bet_buttons.values())))
        moves = own(widgets.HBox(list(self.action_buttons.values())))
        places = own(
            widgets.HBox(
                [
                    self.leave_button,
                    self.join_button,
                    self.watch_button,
                    self.reconnect_button,
                    self.transcript_button,
                ]
            )
        )
        self.widget = own(
            widgets.VBox(
                [
                    own(stylesheet()),
                    style,
                    title,
                    self.dealer_html,
                    self.seats_html,
                    self.status_html,
                    chips,
                    moves,
                    places,
                    self.message_html,
                    self.transcript_html,
                ]
            )
        )
        self.widget.add_class("labkit-tbl")

    def _redraw(self) -> None:
        with self._draw:
            if self.closed:
                return
            state = self.state
            actions = self.actions
            left = seconds_left(state, time.monotonic()) if self.connected else None
            self.dealer_html.value = cards.hand_html(
                "Dealer", state.dealer, state.hands_settled
            )
            self.seats_html.value = seats_html(state, left)
            self.status_html.value = escape(self.status) + countdown_html(left)
            self._show_message(self.message_html)
            me = state.me
            for amount, b in self.bet_buttons.items():
                b.disabled = not (
                    "BET" in actions and me is not None and me.chips >= amount
                )
            for verb, b in self.action_buttons.items():
                b.disabled = verb not in actions
            at_table = self.connected and state.table is not None
            self.leave_button.disabled = not at_table
            self.join_button.disabled = self.watch_button.disabled = (
                not self.connected or at_table
            )
            shown = self.transcript_button.value
            self.transcript_html.layout.display = None if shown else "none"
            if shown:
                self.transcript_html.value = transcript_html(
                    self.transcript[-TRANSCRIPT_LINES:]
                )


def _settling(call: Callable[[], object], code: str, seconds: float = 2.0) -> None:
    """``call``, tried again while the server answers ``code``, for ``seconds``.

    A connection just closed still holds its name and its seat until the
    server has handled the close (its clock thread does, within a quarter
    of a second): the new connection asks again rather than fail.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            call()
            return
        except ServerRefused as refused:
            if refused.code != code or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


# -- the seats as HTML (pure functions of the state) --------------------------


def seat_text(seat: SeatView) -> str:
    """One seat in words: name, chips, bet, hands and their results."""
    text = f"{seat.name}, {seat.chips} chips"
    if seat.bet is not None:
        text += f", bet {seat.bet}"
    for hand in seat.hands.values():  # bet, total, cards, as HAND says them
        cards_text = " ".join(map(str, hand.cards))
        text += f"; hand {hand.number}: {cards_text} ({hand.total})"
        if hand.result is not None:
            outcome, net, reason = hand.result
            text += f" {outcome} {net:+d} {reason}"
    if seat.insurance is not None:
        text += f"; insurance {seat.insurance:+d}"
    return text


def seconds_left(state: TableState, now: float) -> int | None:
    """Whole seconds left to bet or to act (``now`` on the client's clock),
    rounded up as the protocol's seconds are; None when nothing is timed."""
    if state.deadline is None:
        return None
    return max(0, math.ceil(state.deadline - now))


def countdown_html(left: int | None) -> str:
    """The seconds left, counted down by the browser from ``left`` to 0.

    Drawn from the time left at each redraw, so a redraw in the middle of a
    turn starts it from the right number, not from the turn's full time.
    """
    if not left:
        return ""
    return (
        f'<span class="labkit-tbl-countdown" data-seconds="{left}" '
        f'style="--labkit-from: {left}; animation-duration: {left}s"></span>'
    )


def seats_html(state: TableState, left: int | None = None) -> str:
    """Every seat, each a ``.labkit-tbl-seat[data-seat]`` element; the seat
    whose turn it is has a bar that shrinks over the ``left`` seconds."""
    parts = []
    for seat in state.seats.values():
        turn = state.turn is not None and state.turn[0] == seat.number
        mine = seat.number == state.seat
        hands = []
        for hand in seat.hands.values():
            faces = "".join(cards.card_html(c) for c in hand.cards)
            result = ""
            if hand.result is not None:
                outcome, net, reason = hand.result
                result = (
                    f'<div class="labkit-tbl-result" data-outcome="{outcome}" '
                    f'data-net="{net}">'
                    f"{outcome} {net:+d} ({escape(reason.lower())})</div>"
                )
            hands.append(
                f'<div class="labkit-tbl-hand" data-hand="{hand.number}" '
                f'data-total="{hand.total}">'
                f"<div>hand {hand.number}: {hand.total}, bet {hand.bet}</div>"
                f'<div class="labkit-hand-cards">{faces}</div>{result}</div>'
            )
        clock = ""
        if turn and left:
            clock = (
                f'<div class="labkit-tbl-clock" data-seconds="{left}" '
                f'style="animation-duration: {left}s"></div>'
            )
        if seat.insurance is not None:
            hands.append(
                f'<div class="labkit-tbl-insurance" data-net="{seat.insurance}">'
                f"insurance {seat.insurance:+d}</div>"
            )
        bet = "" if seat.bet is None else f", bet {seat.bet}"
        parts.append(
            f'<div class="labkit-tbl-seat" data-seat="{seat.number}" '
            f'data-turn="{"yes" if turn else "no"}" '
            f'data-me="{"yes" if mine else "no"}">'
            f"<b>{seat.number}. {escape(seat.name)}</b>"
            f'<div class="labkit-tbl-chips" data-chips="{seat.chips}">'
            f"{seat.chips} chips{bet}</div>{''.join(hands)}{clock}</div>"
        )
    if not parts:
        parts.append('<div class="labkit-tbl-empty">(no one is seated)</div>')
    return f'<div class="labkit-tbl-seats">{"".join(parts)}</div>'
