"""Blackjack with the lecture's rules, and no I/O: cards, hands, a round, the tally.

Everything here is plain data. A :class:`Round` is played by calling
``deal()``, ``hit()`` and ``stand()``; each call returns the events a player
would see, in order (:class:`Hand`, :class:`Turn`, :class:`Result`). A
:class:`Game` is one player's seat: a random source, the round in play and the
tally, and it refuses a move at the wrong time with :class:`NotNow`. Turning
events into protocol lines is :mod:`labkit.blackjack.protocol`'s job.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

RANKS = ("A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K")
SUITS = ("C", "D", "H", "S")
BLACKJACK = 21
DEALER_STANDS_ON = 17  # the dealer draws below this total, soft 17 included
ACTIONS = ("HIT", "STAND")  # what a player may do during a turn (version 1)


@dataclass(frozen=True, order=True)
class Card:
    rank: str
    suit: str

    def __post_init__(self) -> None:
        if self.rank not in RANKS or self.suit not in SUITS:
            raise ValueError(f"not a card: {self.rank!r} of {self.suit!r}")

    def __str__(self) -> str:
        return self.rank + self.suit

    @classmethod
    def parse(cls, text: str) -> Card:
        """``"10H"`` -> Card("10", "H"); ValueError for anything else."""
        return cls(text[:-1], text[-1:])

    # Cached: every round sums the same 52 cards (benchmarks/blackjack_round.py).
    @cached_property
    def points(self) -> int:
        """An ace counts 1 here; :func:`hand_total` decides when it is 11."""
        if self.rank == "A":
            return 1
        return 10 if self.rank in ("J", "Q", "K") else int(self.rank)


FULL_DECK: tuple[Card, ...] = tuple(
    Card(rank, suit) for suit in SUITS for rank in RANKS
)


def hand_total(cards: Iterable[Card]) -> int:
    """The best value: one ace counts 11 when that does not go over 21.

    Two aces at 11 would be 22, so at most one ace ever counts 11.
    """
    total, ace = 0, False
    for card in cards:
        total += card.points
        ace = ace or card.rank == "A"
    return total + 10 if ace and total + 10 <= BLACKJACK else total


def shuffled_deck(rng: random.Random) -> list[Card]:
    """A fresh 52-card deck in the order ``rng`` shuffles it."""
    deck = list(FULL_DECK)
    rng.shuffle(deck)
    return deck


# -- events: what a player sees, as plain data --------------------------------


@dataclass(frozen=True)
class Hand:
    """A hand as shown: the dealer's before the reveal is ``hidden``.

    A hidden hand holds only the upcard and has no total.
    """

    who: str  # "DEALER" or "PLAYER"
    cards: tuple[Card, ...]
    total: int | None
    hidden: bool = False

    @classmethod
    def of(cls, who: str, cards: Sequence[Card]) -> Hand:
        return cls(who, tuple(cards), hand_total(cards))

    @classmethod
    def dealer_hidden(cls, upcard: Card) -> Hand:
        return cls("DEALER", (upcard,), None, hidden=True)


@dataclass(frozen=True)
class Turn:
    """The player may act; ``actions`` lists what is accepted now."""

    actions: tuple[str, ...] = ACTIONS


@dataclass(frozen=True)
class Result:
    outcome: str  # WIN, LOSE or PUSH
    player_total: int
    dealer_total: int
    reason: str  # BUST, DEALER-BUST, HIGHER, LOWER or EQUAL


@dataclass(frozen=True)
class Score:
    wins: int = 0
    losses: int = 0
    pushes: int = 0

    def counting(self, result: Result) -> Score:
        """The tally with one more result in it."""
        return Score(
            self.wins + (result.outcome == "WIN"),
            self.losses + (result.outcome == "LOSE"),
            self.pushes + (result.outcome == "PUSH"),
        )


RoundEvent = Hand | Turn | Result


def settle(player_total: int, dealer_total: int) -> Result:
    """The protocol's table of outcomes. A player over 21 loses first."""
    if player_total > BLACKJACK:
        outcome, reason = "LOSE", "BUST"
    elif dealer_total > BLACKJACK:
        outcome, reason = "WIN", "DEALER-BUST"
    elif player_total > dealer_total:
        outcome, reason = "WIN", "HIGHER"
    elif player_total < dealer_total:
        outcome, reason = "LOSE", "LOWER"
    else:
        outcome, reason = "PUSH", "EQUAL"
    return Result(outcome, player_total, dealer_total, reason)


class NotNow(Exception):
    """A move made at the wrong time; the message says what is possible now."""


class Round:
    """One round, from the deal to the result, drawing from ``deck`` in order.

    Dealt as a real dealer does: player, dealer, player, dealer. The dealer's
    first card is the upcard, the second the hole card.
    """

    def __init__(self, deck: Sequence[Card]) -> None:
        # Plain tuples hash in C; a dataclass's __hash__ is a Python call.
        if len({(card.rank, card.suit) for card in deck}) != len(deck):
            raise ValueError("a deck holds each card once")
        self._deck = list(reversed(deck))  # pop() from the end is the top
        self.player: list[Card] = []
        self.dealer: list[Card] = []
        self.result: Result | None = None
        self.players_turn = False

    @property
    def dealt(self) -> bool:
        return bool(self.player)

    def deal(self) -> list[RoundEvent]:
        if self.dealt:
            raise NotNow("this round is already dealt")
        for _ in range(2):
            self.player.append(self._deck.pop())
            self.dealer.append(self._deck.pop())
        shown: list[RoundEvent] = [
            Hand.dealer_hidden(self.dealer[0]),
            Hand.of("PLAYER", self.player),
        ]
        return shown + self._after_player_card()

    def hit(self) -> list[RoundEvent]:
        self._require_turn()
        self.player.append(self._deck.pop())
        return [Hand.of("PLAYER", self.player), *self._after_player_card()]

    def stand(self) -> list[RoundEvent]:
        self._require_turn()
        return self._dealer_plays()

    def _require_turn(self) -> None:
        if not self.players_turn:
            raise NotNow("it is not the player's turn")

    def _after_player_card(self) -> list[RoundEvent]:
        # Reaching exactly 21 stands for the player: there is nothing to gain.
        if hand_total(self.player) < BLACKJACK:
            self.players_turn = True
            return [Turn()]
        return self._dealer_plays()

    def _dealer_plays(self) -> list[RoundEvent]:
        self.players_turn = False
        shown: list[RoundEvent] = [Hand.of("DEALER", self.dealer)]  # the reveal
        player_total = hand_total(self.player)
        if player_total <= BLACKJACK:  # against a bust the dealer need not draw
            while hand_total(self.dealer) < DEALER_STANDS_ON:
                self.dealer.append(self._deck.pop())
                shown.append(Hand.of("DEALER", self.dealer))
        self.result = settle(player_total, hand_total(self.dealer))
        shown.append(self.result)
        return shown


GameEvent = Hand | Turn | Result | Score


class Game:
    """One player's seat: rounds dealt from ``rng``, and the tally.

    Each ``deal()`` shuffles a fresh deck, so with a seeded ``rng`` the same
    commands give the same cards. A settled round's events end with the
    :class:`Result` and then the new :class:`Score`.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.round: Round | None = None
        self.score = Score()

    @property
    def in_play(self) -> bool:
        return self.round is not None and self.round.result is None

    def deal(self) -> list[GameEvent]:
        if self.in_play:
            raise NotNow("a round is in play; HIT or STAND first")
        self.round = Round(shuffled_deck(self._rng))
        return self._tally(self.round.deal())

    def hit(self) -> list[GameEvent]:
        return self._tally(self._current().hit())

    def stand(self) -> list[GameEvent]:
        return self._tally(self._current().stand())

    def _current(self) -> Round:
        if self.round is None or not self.in_play:
            raise NotNow("no round in play; DEAL to start one")
        return self.round

    def _tally(self, events: list[RoundEvent]) -> list[GameEvent]:
        shown: list[GameEvent] = list(events)
        if events and isinstance(events[-1], Result):
            self.score = self.score.counting(events[-1])
            shown.append(self.score)
        return shown
