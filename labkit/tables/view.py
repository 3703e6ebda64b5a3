"""One connection's view of a table, from the lines it receives (sans-IO).

Feed :class:`TableView` every line a connection receives, in order; it keeps
the table as plain data: the seats (name, chips, bet, hands, results), the
dealer's hand, whose turn it is and what that ``TURN`` allows, and when the
current countdown ends. Nothing here reads a socket or a clock of its own:
:class:`~labkit.tables.client.TableClient` feeds it and passes the time.

The view only believes the wire. A hand's cards, a seat's chips, the bets:
each is what the last line about it said, so the same transcript always
gives the same view (the tests replay a transcript to check exactly that).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ..blackjack.game import Card, Hand

PLAYER_ACTIONS = ("HIT", "STAND", "DOUBLE", "SPLIT")


@dataclass
class PlayerHand:
    """One hand of a seat, as its last ``HAND`` line showed it."""

    number: int
    bet: int
    total: int
    cards: tuple[Card, ...]
    result: tuple[str, int, str] | None = None  # outcome, net, reason (PAYOUT)


@dataclass
class SeatView:
    """One seat: who sits there, their chips, and this round's bet and hands."""

    number: int
    name: str
    chips: int
    bet: int | None = None  # None: no bet this round (yet)
    hands: dict[int, PlayerHand] = field(default_factory=dict)
    insured: bool = False
    insurance: int | None = None  # the INSURANCE line's net, once settled


@dataclass
class TableState:
    """What one connection knows of the lobby and its table."""

    name: str = ""  # this connection's name, once NAME was answered
    table: int | None = None  # the table joined or watched
    seat: int | None = None  # this connection's seat; None when watching
    watching: bool = False
    token: str = ""  # JOIN <table> <token> brings the seat back
    chips: int | None = None  # this connection's chips as last told
    seats: dict[int, SeatView] = field(default_factory=dict)
    dealer: Hand | None = None
    betting: bool = False  # bets are open
    turn: tuple[int, int] | None = None  # (seat, hand); (0, 0) is insurance
    actions: tuple[str, ...] = ()  # what the current TURN accepts
    seconds: int | None = None  # the last BETTING or TURN line's countdown
    deadline: float | None = None  # when that countdown ends (the feeder's clock)
    hands_settled: int = 0  # rounds that reached their PAYOUT lines
    shuffles: int = 0
    in_state: bool = False  # between STATE BEGIN and STATE END

    @property
    def me(self) -> SeatView | None:
        return self.seats.get(self.seat) if self.seat is not None else None

    @property
    def in_play(self) -> bool:
        """A hand is dealt and not yet settled."""
        return self.dealer is not None and not self.betting and not self.settled

    @property
    def settled(self) -> bool:
        hands = [h for s in self.seats.values() for h in s.hands.values()]
        return bool(hands) and all(h.result is not None for h in hands)

    @property
    def my_actions(self) -> tuple[str, ...]:
        """What this connection may send now: BET, or what TURN lists for it."""
        me = self.me
        if me is None:
            return ()
        if self.betting and me.bet is None:
            return ("BET",)
        if self.turn == (0, 0):
            placed = me.bet is not None and bool(me.hands)
            return ("INSURE",) if placed and not me.insured else ()
        if self.turn is not None and self.turn[0] == me.number:
            return self.actions
        return ()


class TableView:
    """Lines in, :class:`TableState` out; see the module's docstring."""

    def __init__(self) -> None:
        self.state = TableState()
        self._new_round = False  # BETTING came: the next BET or deal clears hands

    def snapshot(self) -> TableState:
        """A copy to keep: the view goes on changing."""
        return copy.deepcopy(self.state)

    def received(self, line: str, now: float = 0.0) -> None:
        """One line from the server; ``now`` is the feeder's clock, in seconds."""
        keyword, *words = line.split()
        handler = getattr(self, "_" + keyword.lower(), None)
        if handler is not None:
            try:
                handler(words, now)
            except (ValueError, IndexError, KeyError):
                pass  # a line this view cannot read changes nothing

    # -- the lobby's answers -------------------------------------------------

    def _name(self, words: list[str], now: float) -> None:
        self.state.name = words[0]

    def _seated(self, words: list[str], now: float) -> None:
        table, seat, chips, token = words[:4]
        self._enter(int(table))
        self.state.seat, self.state.chips, self.state.token = (
            int(seat),
            int(chips),
            token,
        )

    def _watching(self, words: list[str], now: float) -> None:
        self._enter(int(words[0]))
        self.state.watching = True

    def _enter(self, table: int) -> None:
        name, chips = self.state.name, self.state.chips
        self.state = TableState(name=name, chips=chips, table=table)
        self._new_round = False

    def _left(self, words: list[str], now: float) -> None:
        name, chips = self.state.name, self.state.chips
        self.state = TableState(name=name, chips=chips)

    def _state(self, words: list[str], now: float) -> None:
        self.state.in_state = words[0] == "BEGIN"

    # -- table lines ---------------------------------------------------------

    def _seat(self, words: list[str], now: float) -> None:
        number, name, chips = int(words[0]), words[1], int(words[2])
        self.state.seats[number] = SeatView(number, name, chips)
        if number == self.state.seat:
            self.state.name = name

    def _empty(self, words: list[str], now: float) -> None:
        self.state.seats.pop(int(words[0]), None)

    def _betting(self, words: list[str], now: float) -> None:
        state = self.state
        state.betting = True
        state.turn, state.actions = None, ()
        self._countdown(int(words[0]), now)
        for seat in state.seats.values():  # a new round's bets; the cards stay
            seat.bet, seat.insured = None, False  # on show until the deal
        self._new_round = True
        if state.in_state:  # joined during betting: nothing older to keep
            self._clear_round()

    def _bet(self, words: list[str], now: float) -> None:
        self._start_round()
        seat = self.state.seats.get(int(words[0]))
        if seat is not None:
            seat.bet = int(words[1])

    def _shuffle(self, words: list[str], now: float) -> None:
        self.state.shuffles += 1

    def _hand(self, words: list[str], now: float) -> None:
        state = self.state
        self._start_round()
        state.betting = False
        if words[0] == "DEALER":
            if words[1] == "?":
                state.dealer = Hand.dealer_hidden(Card.parse(words[2]))
            else:
                cards = tuple(Card.parse(w) for w in words[2:])
                state.dealer = Hand("DEALER", cards, int(words[1]))
            return
        seat, number = _key(words[0])
        cards = tuple(Card.parse(w) for w in words[3:])
        view = state.seats.get(seat)
        if view is not None:
            view.hands[number] = PlayerHand(number, int(words[1]), int(words[2]), cards)

    def _turn(self, words: list[str], now: float) -> None:
        self.state.betting = False
        self.state.turn = _key(words[0])
        self.state.actions = tuple(words[2:])
        self._countdown(int(words[1]), now)

    def _action(self, words: list[str], now: float) -> None:
        seat, number = _key(words[0])
        if words[1] == "INSURE" and seat in self.state.seats:
            self.state.seats[seat].insured = True
        if self.state.turn != (0, 0):  # the insurance window stays open
            self.state.actions = ()
            self.state.seconds = self.state.deadline = None

    def _payout(self, words: list[str], now: float) -> None:
        state = self.state
        state.turn, state.actions = None, ()
        state.seconds = state.deadline = None
        seat, number = _key(words[0])
        view = state.seats.get(seat)
        if view is not None and number in view.hands:
            view.hands[number].result = (words[1], int(words[2]), words[3])
            if state.settled:
                self._settle()

    def _insurance(self, words: list[str], now: float) -> None:
        view = self.state.seats.get(int(words[0]))
        if view is not None:
            view.insurance = int(words[1])
        if self.state.turn == (0, 0):
            self.state.turn, self.state.actions = None, ()

    def _chips(self, words: list[str], now: float) -> None:
        seat, chips = int(words[0]), int(words[1])
        if seat == 0 or seat == self.state.seat:
            self.state.chips = chips
        if seat in self.state.seats:
            self.state.seats[seat].chips = chips

    # -- rounds --------------------------------------------------------------

    def _settle(self) -> None:
        """The last PAYOUT: every seat's chips move by its nets at once.

        The CHIPS lines right after say the same (the protocol's chips
        rule), so a state that counts the hand as settled never shows the
        chips from before it; a CHIPS line that differs (a rebuy) wins.
        """
        state = self.state
        state.hands_settled += 1
        for seat in state.seats.values():
            nets = sum(h.result[1] for h in seat.hands.values() if h.result)
            seat.chips += nets + (seat.insurance or 0)
            if seat.number == state.seat:
                state.chips = seat.chips

    def _countdown(self, seconds: int, now: float) -> None:
        self.state.seconds = seconds
        self.state.deadline = now + seconds

    def _start_round(self) -> None:
        """The first BET or HAND after BETTING: the last round's hands go."""
        if self._new_round:
            self._new_round = False
            self._clear_round()

    def _clear_round(self) -> None:
        self.state.dealer = None
        for seat in self.state.seats.values():
            seat.bet, seat.hands = None, {}
            seat.insured, seat.insurance = False, None


def _key(text: str) -> tuple[int, int]:
    seat, _, hand = text.partition(":")
    return int(seat), int(hand)
