"""A Blackjack table as a state machine: commands and the clock in, lines out.

Why a state machine
-------------------
A table is shared: seven players and any number of watchers, each on their
own connection, and timers that fire when nobody types. The hard part of a
multi-player server is not the cards, it is keeping one order of events that
everyone sees. So the table knows nothing about sockets, threads or event
loops (it is *sans-IO*, like h11): a service calls it, under one lock per
table, and it answers with the lines to send and to whom, in the one order
that every connection will see them. The same table then runs under every
transport, and a test drives it with no network at all.

What goes in
------------
- ``join(who, name, chips)``, ``rejoin(who, token)``, ``watch(who)``: a
  connection sits down, comes back with its token, or starts watching.
  ``who`` is any hashable the service uses for a connection.
- ``command(who, verb, *args)``: ``BET``, ``HIT``, ``STAND``, ``DOUBLE``,
  ``SPLIT``, ``INSURE``, ``LEAVE``, ``CHIPS``, ``REBUY`` from a connection
  at this table (the lobby's commands are the service's).
- ``disconnect(who)``: the connection is gone (EOF, reset, dropped).
- ``deadline_passed()``: the clock reached :attr:`Table.deadline`.

What comes out
--------------
Every call returns a list of :class:`Send` (a line and the connections it
goes to) and :class:`SeatEmptied` (not a line: the chips a seat ended with,
so that the service can keep them for the player). The service sends them
in list order. A table line is addressed to the whole audience at the moment
it is made, so every connection at the table gets the table's lines in one
order; an answer meant for one connection (``SEATED``, the state, ``LEFT``,
an ``ERROR``) is addressed to that one.

Time
----
The table reads time from ``clock`` (``time.monotonic`` unless a test
passes a clock it moves by hand) and never waits. Each phase with a time
limit (betting, insurance, a turn) and each disconnected player's minute to
come back sets a deadline; :attr:`Table.deadline` is the earliest. The
service calls ``deadline_passed()`` when it comes. Every other call first
catches up with the timers that are due, so a command that arrives after a
turn ran out is answered as coming after it, however late the service's
timer is.

The phases: ``waiting`` (no one to play), ``betting``, ``insurance`` (the
dealer shows an ace), ``turns``. The deal, the dealer's play and the
settlement take no time, so they are not phases: they happen inside the
call that ends the phase before them.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

from ..blackjack.game import BLACKJACK, Card
from . import lines
from .rules import (
    DEFAULT_RULES,
    PlayerHand,
    Rules,
    dealer_draws,
    dealer_peeks,
    insurance_net,
    insurance_stake,
    is_natural,
    settle,
)
from .shoe import Shoe, ShoeEmpty

Who = Hashable  # whatever the service uses to name a connection

PLAY = ("HIT", "STAND", "DOUBLE", "SPLIT")
COMMANDS = (*PLAY, "BET", "INSURE", "LEAVE", "CHIPS", "REBUY")


@dataclass(frozen=True)
class Send:
    """One line for some connections: a table line goes to the whole audience."""

    to: tuple[Who, ...]
    line: str


@dataclass(frozen=True)
class SeatEmptied:
    """A seat emptied with ``chips``; ``who`` is the connection that held it last."""

    who: Who
    seat: int
    name: str
    chips: int


Output = Send | SeatEmptied


@dataclass
class Seat:
    """One seat and its player. Only the table changes it."""

    number: int
    name: str
    chips: int  # settled chips: they change at settlement and REBUY only
    token: str  # brings a disconnected player back to this seat
    who: Who  # the connection that holds (or last held) the seat
    present: bool = True  # False once disconnected or left
    gone_since: float | None = None  # when it disconnected
    leaving: bool = False  # empties after this hand; no way back
    idle_rounds: int = 0  # betting rounds in a row without a bet
    bet: int | None = None  # this betting round's bet
    hands: list[PlayerHand] = field(default_factory=list)
    insurance: int = 0
    hand_net: int = 0  # what this hand's PAYOUT and INSURANCE lines add up to

    @property
    def staked(self) -> int:
        """Chips on the table for this hand: bets (doubles, splits) and insurance."""
        bets = sum(hand.bet for hand in self.hands) if self.hands else self.bet or 0
        return bets + self.insurance

    @property
    def available(self) -> int:
        """What a double, a split or insurance may still stake."""
        return self.chips - self.staked


class Table:
    """One table: seats, watchers, a shoe, the dealer and the clock."""

    def __init__(
        self,
        number: int = 1,
        rules: Rules = DEFAULT_RULES,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        tokens: Callable[[], str] = lambda: secrets.token_hex(8),
    ) -> None:
        self.number = number
        self.rules = rules
        self.clock = clock
        self._new_token = tokens
        self.shoe = Shoe(rules.decks, rng if rng is not None else random.Random())
        self.seats: dict[int, Seat] = {}
        self.watchers: list[Who] = []
        self.phase = "waiting"
        self.phase_deadline: float | None = None
        self.dealer: list[Card] = []
        self.turn: tuple[int, int] | None = None  # (seat, hand), hands from 1
        self._out: list[Output] = []

    # -- what a service asks ----------------------------------------------

    @property
    def audience(self) -> tuple[Who, ...]:
        """Every connection that gets the table lines: players, then watchers."""
        players = tuple(seat.who for seat in self._seats() if seat.present)
        return players + tuple(self.watchers)

    @property
    def deadline(self) -> float | None:
        """The clock time of the next timer, or None when nothing waits on time."""
        times = [self._expires(seat) for seat in self._gone()]
        if self.phase_deadline is not None:
            times.append(self.phase_deadline)
        return min(times, default=None)

    def seat_of(self, who: Who) -> Seat | None:
        """The seat ``who`` plays at, or None."""
        for seat in self.seats.values():
            if seat.present and seat.who == who:
                return seat
        return None

    def at_table(self, who: Who) -> bool:
        return who in self.watchers or self.seat_of(who) is not None

    @property
    def in_play(self) -> bool:
        """A hand is dealt and not yet settled."""
        return self.phase in ("insurance", "turns")

    # -- what goes in -------------------------------------------------------

    def join(self, who: Who, name: str, chips: int | None = None) -> list[Output]:
        """Seat ``who`` at the lowest free seat with ``chips`` (the stack if None)."""
        self._run_timers()
        free = [n for n in range(1, self.rules.seats + 1) if n not in self.seats]
        if self.at_table(who):
            self._error(who, "NOT-NOW", f"you are at table {self.number}; LEAVE first")
        elif not free:
            self._error(who, "TABLE-FULL", f"table {self.number} has no free seat")
        else:
            seat = Seat(free[0], name, self._stack(chips), self._new_token(), who)
            self._say(lines.seat_line(seat.number, name, seat.chips))
            self.seats[seat.number] = seat
            self._welcome(seat)
        return self._flush()

    def rejoin(self, who: Who, token: str) -> list[Output]:
        """Give a disconnected player's seat back to ``who``, within the minute."""
        self._run_timers()
        seat = next((s for s in self._gone() if s.token == token), None)
        if self.at_table(who):
            self._error(who, "NOT-NOW", f"you are at table {self.number}; LEAVE first")
        elif seat is None:
            self._error(who, "BAD-TOKEN", "no seat at this table waits for that token")
        else:
            seat.who, seat.present, seat.gone_since = who, True, None
            self._welcome(seat)
        return self._flush()

    def watch(self, who: Who) -> list[Output]:
        self._run_timers()
        if self.at_table(who):
            self._error(who, "NOT-NOW", f"you are at table {self.number}; LEAVE first")
        else:
            self.watchers.append(who)
            self._tell(who, lines.watching_line(self.number))
            self._send_state(who)
        return self._flush()

    def command(self, who: Who, verb: str, *args: str) -> list[Output]:
        """One of :data:`COMMANDS` from a connection at this table."""
        self._run_timers()
        verb = verb.upper()
        if verb not in COMMANDS:
            raise ValueError(f"{verb} is not a table command")
        seat = self.seat_of(who)
        if verb == "LEAVE":
            self._leave(who, seat)
        elif seat is None:
            if who not in self.watchers:
                raise LookupError(f"{who!r} is not at table {self.number}")
            self._error(who, "NOT-NOW", "watchers cannot play; LEAVE, then JOIN")
        elif verb == "BET":
            self._bet(seat, args)
        elif verb == "INSURE":
            self._insure(seat)
        elif verb == "CHIPS":
            self._tell(who, lines.chips_line(seat.number, seat.chips))
        elif verb == "REBUY":
            self._rebuy(seat)
        else:
            self._play(seat, verb)
        return self._flush()

    def disconnect(self, who: Who) -> list[Output]:
        """The connection is gone: its seat waits a minute, its hands stand."""
        self._run_timers()
        if who in self.watchers:
            self.watchers.remove(who)
        elif (seat := self.seat_of(who)) is not None:
            seat.present, seat.gone_since = False, self.clock()
            self._player_gone(seat)
        return self._flush()

    def deadline_passed(self) -> list[Output]:
        """The service's timer fired: run whatever is due."""
        self._run_timers()
        return self._flush()

    # -- the lobby's part at the table --------------------------------------

    def _welcome(self, seat: Seat) -> None:
        self._tell(
            seat.who,
            lines.seated_line(self.number, seat.number, seat.chips, seat.token),
        )
        self._send_state(seat.who)
        if self.phase == "waiting":
            self._open_betting()

    def _leave(self, who: Who, seat: Seat | None) -> None:
        if seat is None:
            if who not in self.watchers:
                raise LookupError(f"{who!r} is not at table {self.number}")
            self.watchers.remove(who)
            self._tell(who, lines.left_line(self.number))
            return
        seat.present = False
        self._tell(who, lines.left_line(self.number))
        if seat.hands:  # a hand in play is played out: stood, then settled
            seat.leaving = True
            self._player_gone(seat)
        else:
            self._empty(seat)
            self._maybe_close_betting()

    def _player_gone(self, seat: Seat) -> None:
        """A player stopped answering: never let the table wait for them."""
        if self.phase == "betting":
            self._maybe_close_betting()
        elif self.phase == "insurance":
            self._maybe_end_insurance()
        elif self.phase == "turns" and self.turn and self.turn[0] == seat.number:
            self._stand(seat, self.turn[1], timeout=False)

    def _rebuy(self, seat: Seat) -> None:
        if seat.hands or seat.chips >= self.rules.min_bet:
            self._error(
                seat.who,
                "NOT-NOW",
                f"REBUY is for a player below {self.rules.min_bet} chips "
                "with no hand in play",
            )
            return
        seat.chips = self.rules.stack
        self._tell(seat.who, lines.chips_line(seat.number, seat.chips))

    def _empty(self, seat: Seat) -> None:
        self._say(lines.empty_line(seat.number))
        del self.seats[seat.number]
        self._out.append(SeatEmptied(seat.who, seat.number, seat.name, seat.chips))

    # -- betting ------------------------------------------------------------

    def _open_betting(self) -> None:
        self.phase = "betting"
        self.phase_deadline = self.clock() + self.rules.bet_seconds
        for seat in self.seats.values():
            seat.bet = None
        self._say(lines.betting_line(self.rules.bet_seconds))

    def _bet(self, seat: Seat, args: tuple[str, ...]) -> None:
        low, high = self.rules.min_bet, self.rules.max_bet
        if self.phase != "betting":
            self._error(seat.who, "NOT-NOW", "bets are taken after BETTING only")
            return
        if seat.bet is not None:
            self._error(seat.who, "NOT-NOW", "you have bet this round already")
            return
        word = args[0] if args else ""
        amount = int(word) if word.isascii() and word.isdigit() else -1
        if not (low <= amount <= high and amount <= seat.chips):
            self._error(
                seat.who,
                "BAD-BET",
                f"a bet is a whole number from {low} to {high}, "
                f"and at most your {seat.chips} chips",
            )
            return
        seat.bet = amount
        self._say(lines.bet_line(seat.number, amount))
        self._maybe_close_betting()

    def _maybe_close_betting(self) -> None:
        """Every player here has bet: no reason to wait for the clock."""
        if self.phase != "betting":
            return
        seats = self.seats.values()
        bets = any(seat.bet is not None for seat in seats)
        if all(seat.bet is not None for seat in seats if seat.present) and bets:
            self._close_betting()
        elif not bets and not any(seat.present for seat in seats):
            self.phase, self.phase_deadline = "waiting", None  # no one to wait for

    def _close_betting(self) -> None:
        for seat in self._seats():
            if not seat.present:
                continue  # a disconnected player has their own minute
            seat.idle_rounds = 0 if seat.bet is not None else seat.idle_rounds + 1
            if seat.idle_rounds >= self.rules.idle_rounds:
                self._empty(seat)
        players = [seat for seat in self._seats() if seat.bet is not None]
        if players:
            self._deal(players)
        else:
            self._next_round()

    def _next_round(self) -> None:
        """Betting opens again while someone is here to bet."""
        if any(seat.present for seat in self.seats.values()):
            self._open_betting()
        else:
            self.phase, self.phase_deadline = "waiting", None

    # -- the deal, insurance and the peek -----------------------------------

    def _deal(self, players: list[Seat]) -> None:
        self.phase, self.phase_deadline = "dealing", None
        if self.shoe.needs_shuffle:
            self.shoe.shuffle()
            self._say(lines.shuffle_line(self.shoe.decks))
        for seat in players:
            seat.hands = [PlayerHand(bet=seat.bet or 0)]
        self.dealer = []
        for _ in range(2):  # one card each in seat order, the dealer last
            for seat in players:
                seat.hands[0].cards.append(self._draw())
            self.dealer.append(self._draw())
        self._say(lines.dealer_hidden_line(self.dealer[0]))
        for seat in players:
            self._say(
                lines.hand_line(seat.number, 1, seat.hands[0].bet, seat.hands[0].cards)
            )
        if self.dealer[0].rank == "A":
            self.phase = "insurance"
            self.phase_deadline = self.clock() + self.rules.turn_seconds
            self._say(lines.turn_line(0, 0, self.rules.turn_seconds, ["INSURE"]))
            self._maybe_end_insurance()
        else:
            self._peek()

    def _draw(self) -> Card:
        try:
            return self.shoe.draw()
        except ShoeEmpty:  # the discards become a shoe; the table's cards stay out
            self.shoe.shuffle(keep_out=self._cards_on_table())
            self._say(lines.shuffle_line(self.shoe.decks))
            return self.shoe.draw()

    def _cards_on_table(self) -> Iterator[Card]:
        yield from self.dealer
        for seat in self.seats.values():
            for hand in seat.hands:
                yield from hand.cards

    def _can_insure(self, seat: Seat) -> bool:
        stake = insurance_stake(seat.hands[0].bet)
        return not seat.insurance and stake <= seat.available

    def _insure(self, seat: Seat) -> None:
        if self.phase != "insurance" or not seat.hands:
            self._error(seat.who, "NOT-NOW", "insurance is offered by TURN 0:0 only")
        elif seat.insurance:
            self._error(seat.who, "NOT-NOW", "you are insured already")
        elif not self._can_insure(seat):
            stake = insurance_stake(seat.hands[0].bet)
            self._error(
                seat.who,
                "BAD-BET",
                f"insurance costs {stake} chips and you have {seat.available} free",
            )
        else:
            seat.insurance = insurance_stake(seat.hands[0].bet)
            self._say(lines.action_line(seat.number, 1, "INSURE"))
            self._maybe_end_insurance()

    def _maybe_end_insurance(self) -> None:
        """Once everyone present who can insure has insured, the peek comes."""
        for seat in self._in_hand():
            if seat.present and self._can_insure(seat):
                return
        self._peek()

    def _peek(self) -> None:
        self.phase, self.phase_deadline = "dealing", None
        dealer_blackjack = dealer_peeks(self.dealer[0]) and is_natural(self.dealer)
        if dealer_blackjack:
            self._say(lines.dealer_line(self.dealer))
        for seat in self._in_hand():
            if seat.insurance:
                net = insurance_net(seat.insurance, dealer_blackjack)
                seat.hand_net += net
                self._say(lines.insurance_line(seat.number, net))
        if dealer_blackjack:
            self._settle()
        else:
            self._next_turn()

    # -- the players' turns ---------------------------------------------------

    def _next_turn(self) -> None:
        """The first hand not yet over, in seat order and hand order, plays."""
        for seat in self._in_hand():
            for number, hand in enumerate(seat.hands, 1):
                if hand.done:
                    continue
                if hand.total >= BLACKJACK:  # nothing to decide at 21
                    hand.done = True
                elif not seat.present:
                    self._stand(seat, number, timeout=False, then_next=False)
                else:
                    self.phase, self.turn = "turns", (seat.number, number)
                    self.phase_deadline = self.clock() + self.rules.turn_seconds
                    actions = self._actions(seat, hand)
                    self._say(
                        lines.turn_line(
                            seat.number, number, self.rules.turn_seconds, actions
                        )
                    )
                    return
        self.turn = None
        self._dealer_plays()

    def _actions(self, seat: Seat, hand: PlayerHand) -> list[str]:
        actions = ["HIT", "STAND"]
        if hand.can_double() and seat.available >= hand.bet:
            actions.append("DOUBLE")
        if hand.can_split(len(seat.hands)) and seat.available >= hand.bet:
            actions.append("SPLIT")
        return actions

    def _play(self, seat: Seat, verb: str) -> None:
        if self.phase != "turns" or self.turn is None:
            what = "only INSURE is open now" if self.phase == "insurance" else ""
            self._error(seat.who, "NOT-NOW", what or "no turn is in play")
            return
        turn_seat, number = self.turn
        if seat.number != turn_seat:
            self._error(seat.who, "NOT-YOUR-TURN", f"it is seat {turn_seat}'s turn")
            return
        hand = seat.hands[number - 1]
        if verb not in self._actions(seat, hand):
            self._error(
                seat.who, "NOT-NOW", f"{verb} is not offered; TURN lists what is"
            )
            return
        if verb == "STAND":
            self._stand(seat, number, timeout=False)
            return
        self._say(lines.action_line(seat.number, number, verb))
        if verb == "HIT":
            hand.cards.append(self._draw())
        elif verb == "DOUBLE":
            hand.bet, hand.doubled, hand.done = hand.bet * 2, True, True
            hand.cards.append(self._draw())
        else:
            self._split(seat, number, hand)
            return
        self._say(lines.hand_line(seat.number, number, hand.bet, hand.cards))
        self._next_turn()  # the same hand again below 21, else the next one

    def _split(self, seat: Seat, number: int, hand: PlayerHand) -> None:
        """Two hands from one pair, each with the bet, each given a second card."""
        other = PlayerHand(bet=hand.bet, cards=[hand.cards.pop()], split=True)
        hand.split = True
        seat.hands.append(other)  # the new hand takes the next number
        for each in (hand, other):
            each.cards.append(self._draw())
            each.done = each.cards[0].rank == "A"  # split aces: one card each
        self._say(lines.hand_line(seat.number, number, hand.bet, hand.cards))
        self._say(lines.hand_line(seat.number, len(seat.hands), other.bet, other.cards))
        self._next_turn()

    def _stand(
        self, seat: Seat, number: int, *, timeout: bool, then_next: bool = True
    ) -> None:
        seat.hands[number - 1].done = True
        self._say(lines.action_line(seat.number, number, "STAND", timeout))
        if then_next:
            self._next_turn()

    # -- the dealer and the settlement ---------------------------------------

    def _dealer_plays(self) -> None:
        self.phase, self.phase_deadline = "dealing", None
        self._say(lines.dealer_line(self.dealer))  # the hole card, face up
        hands = [hand for seat in self._in_hand() for hand in seat.hands]
        # Against hands that are bust or blackjack already, a card changes nothing.
        if any(not (hand.bust or hand.blackjack) for hand in hands):
            while dealer_draws(self.dealer, self.rules.h17):
                self.dealer.append(self._draw())
                self._say(lines.dealer_line(self.dealer))
        self._settle()

    def _settle(self) -> None:
        players = self._in_hand()
        for seat in players:
            for number, hand in enumerate(seat.hands, 1):
                payout = settle(hand, self.dealer)
                seat.hand_net += payout.net
                self._say(lines.payout_line(seat.number, number, payout))
        for seat in players:
            if seat.hand_net:
                seat.chips += seat.hand_net
                self._say(lines.chips_line(seat.number, seat.chips))
            seat.hands, seat.bet, seat.insurance, seat.hand_net = [], None, 0, 0
        self.dealer, self.turn = [], None
        for seat in self._seats():
            if seat.leaving:
                self._empty(seat)
        self._next_round()

    # -- timers ----------------------------------------------------------------

    def _run_timers(self) -> None:
        """Fire every timer that is due, one at a time, earliest first.

        One at a time because each can change the others: a betting round
        that closes deals a hand, whose first turn sets a new deadline.
        """
        while (due := self.deadline) is not None and due <= self.clock():
            gone = [s for s in self._gone() if self._expires(s) == due]
            if gone:
                self._expire(gone[0])
            elif self.phase == "betting":
                self._close_betting()
            elif self.phase == "insurance":
                self._peek()
            elif self.phase == "turns" and self.turn is not None:
                self._stand(self.seats[self.turn[0]], self.turn[1], timeout=True)

    def _expires(self, seat: Seat) -> float:
        assert seat.gone_since is not None
        return seat.gone_since + self.rules.reconnect_seconds

    def _expire(self, seat: Seat) -> None:
        """A disconnected player's minute is over: the seat goes."""
        seat.gone_since = None
        if seat.hands:
            seat.leaving = True  # after this hand's settlement
        else:
            self._empty(seat)
            self._maybe_close_betting()

    # -- the state and the outbox ---------------------------------------------

    def state_lines(self) -> list[str]:
        """The table as it stands: ``STATE BEGIN`` ... ``STATE END``."""
        now = self.clock()
        shown = [lines.STATE_BEGIN]
        shown += [lines.seat_line(s.number, s.name, s.chips) for s in self._seats()]
        if self.phase == "betting" and self.phase_deadline is not None:
            shown.append(lines.betting_line(self.phase_deadline - now))
            shown += [
                lines.bet_line(s.number, s.bet)
                for s in self._seats()
                if s.bet is not None
            ]
        elif self.in_play and self.phase_deadline is not None:
            players = self._in_hand()
            shown += [lines.bet_line(s.number, s.bet or 0) for s in players]
            shown.append(lines.dealer_hidden_line(self.dealer[0]))
            for seat in players:
                for number, hand in enumerate(seat.hands, 1):
                    shown.append(
                        lines.hand_line(seat.number, number, hand.bet, hand.cards)
                    )
            left = self.phase_deadline - now
            if self.phase == "insurance":
                shown.append(lines.turn_line(0, 0, left, ["INSURE"]))
            elif self.turn is not None:
                seat = self.seats[self.turn[0]]
                actions = self._actions(seat, seat.hands[self.turn[1] - 1])
                shown.append(lines.turn_line(*self.turn, left, actions))
        shown.append(lines.STATE_END)
        return shown

    def _send_state(self, who: Who) -> None:
        for line in self.state_lines():
            self._tell(who, line)

    def _say(self, line: str) -> None:
        """A table line, to everyone at the table now (maybe no one: a log sees it)."""
        self._out.append(Send(self.audience, line))

    def _tell(self, who: Who, line: str) -> None:
        self._out.append(Send((who,), line))

    def _error(self, who: Who, code: str, text: str) -> None:
        self._tell(who, lines.error_line(code, text))

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _seats(self) -> list[Seat]:
        return [self.seats[number] for number in sorted(self.seats)]

    def _in_hand(self) -> list[Seat]:
        return [seat for seat in self._seats() if seat.hands]

    def _gone(self) -> list[Seat]:
        """Disconnected players still within their minute to come back."""
        return [s for s in self._seats() if s.gone_since is not None and not s.leaving]

    def _stack(self, chips: int | None) -> int:
        return self.rules.stack if chips is None else chips
