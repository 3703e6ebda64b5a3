"""The casino's rules, as pure functions and plain data: no table, no clock.

Version 1 (:mod:`labkit.blackjack.game`) has the lecture's rules: hit or
stand, the dealer stands on 17, a tie is a push. A casino table adds money,
and with money come the rules that make Blackjack the game people know:

- a **blackjack** (21 on the first two cards) pays 3 to 2;
- **double**: double the bet on two cards, take exactly one more;
- **split** two cards of the same rank into two hands, each with its own
  bet, up to four hands; split aces get one card each, and 21 after a split
  is only 21, not a blackjack;
- **insurance** against a dealer's ace: a side bet of half the bet that pays
  2 to 1 if the hole card makes a blackjack;
- the dealer **peeks** under an ace or a ten, so a dealer blackjack ends the
  hand before anyone doubles or splits into it;
- the dealer stands on every 17 (**S17**), or hits a *soft* 17, one with an
  ace counted 11 (**H17**, which costs the players about 0.2%).

Everything here is decided from the cards and the bets alone, so each rule
can be tested on its own (tests/test_tables_rules.py); the table
(:mod:`labkit.tables.table`) only decides *when* each one applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..blackjack.game import BLACKJACK, DEALER_STANDS_ON, Card, hand_total
from ..blackjack.game import settle as settle_v1

MAX_HANDS = 4  # a seat splits into at most this many hands
TEN_VALUES = ("10", "J", "Q", "K")


@dataclass(frozen=True)
class Rules:
    """A table's numbers; the defaults are docs/protocol.md's."""

    decks: int = 6
    h17: bool = False  # the dealer hits a soft 17
    min_bet: int = 10
    max_bet: int = 500
    stack: int = 1000  # a new player's chips, and what REBUY restores
    seats: int = 7
    bet_seconds: float = 15
    turn_seconds: float = 30
    reconnect_seconds: float = 60
    idle_rounds: int = 10  # betting rounds without a bet before unseating

    def __post_init__(self) -> None:
        if not 1 <= self.min_bet <= self.max_bet:
            raise ValueError("bets need 1 <= min_bet <= max_bet")
        if self.stack < self.min_bet:
            raise ValueError("the starting stack must cover the minimum bet")
        if not 1 <= self.seats <= 7:
            raise ValueError("a table has 1 to 7 seats")
        times = (self.bet_seconds, self.turn_seconds, self.reconnect_seconds)
        if min(times) <= 0:
            raise ValueError("every time limit must be above 0 seconds")


DEFAULT_RULES = Rules()


def is_soft(cards: Sequence[Card]) -> bool:
    """True when an ace counts 11 in the best total (``A 6`` is a soft 17)."""
    hard = sum(card.points for card in cards)
    return any(card.rank == "A" for card in cards) and hard + 10 <= BLACKJACK


def is_natural(cards: Sequence[Card]) -> bool:
    """21 on two cards. A split hand's 21 is not one: see PlayerHand."""
    return len(cards) == 2 and hand_total(cards) == BLACKJACK


def dealer_draws(cards: Sequence[Card], h17: bool = False) -> bool:
    """The dealer's one rule: draw below 17; on a soft 17 only under H17."""
    total = hand_total(cards)
    if total < DEALER_STANDS_ON:
        return True
    return h17 and total == DEALER_STANDS_ON and is_soft(cards)


def dealer_peeks(upcard: Card) -> bool:
    """Only an ace or a ten-value upcard can hide a blackjack."""
    return upcard.rank == "A" or upcard.rank in TEN_VALUES


def insurance_stake(bet: int) -> int:
    """Half the bet, rounded down: a 25 bet insures for 12."""
    return bet // 2


def insurance_net(stake: int, dealer_blackjack: bool) -> int:
    """Insurance pays 2 to 1 on a dealer blackjack and is lost otherwise."""
    return 2 * stake if dealer_blackjack else -stake


@dataclass
class PlayerHand:
    """One of a seat's hands: its cards, its bet, and whether it is over.

    Mutable on purpose: a hand grows card by card during its turn. The
    table owns it and only the table changes it.
    """

    bet: int
    cards: list[Card] = field(default_factory=list)
    split: bool = False  # made by a split: 21 on two cards is not a blackjack
    doubled: bool = False
    done: bool = False  # stood, doubled, busted, at 21, or split aces

    @property
    def total(self) -> int:
        return hand_total(self.cards)

    @property
    def blackjack(self) -> bool:
        return not self.split and is_natural(self.cards)

    @property
    def bust(self) -> bool:
        return self.total > BLACKJACK

    def can_double(self) -> bool:
        return len(self.cards) == 2 and not self.done

    def can_split(self, hands: int) -> bool:
        """Two cards of one rank (a 10 and a K are two ranks), room for a hand."""
        two = len(self.cards) == 2 and self.cards[0].rank == self.cards[1].rank
        return two and not self.done and hands < MAX_HANDS


@dataclass(frozen=True)
class Payout:
    """How one hand was settled: a ``PAYOUT`` line without its seat and hand."""

    outcome: str  # WIN, LOSE, PUSH or BLACKJACK
    net: int  # chips won (positive) or lost (negative)
    reason: str


def settle(hand: PlayerHand, dealer: Sequence[Card]) -> Payout:
    """docs/protocol.md's settlement of one hand against the dealer's cards.

    In this order, because the first rule that applies decides:
    a bust loses even if the dealer busts too; a blackjack pays 3 to 2
    unless the dealer has one too (then it pushes); a dealer blackjack beats
    every other hand, 21 included; everything else is version 1's table,
    for the whole bet (doubled bets included).
    """
    bet = hand.bet
    dealer_blackjack = is_natural(dealer)
    if hand.bust:
        return Payout("LOSE", -bet, "BUST")
    if hand.blackjack:
        if dealer_blackjack:
            return Payout("PUSH", 0, "EQUAL")
        return Payout("BLACKJACK", bet * 3 // 2, "BLACKJACK")
    if dealer_blackjack:
        return Payout("LOSE", -bet, "DEALER-BLACKJACK")
    result = settle_v1(hand.total, hand_total(dealer))
    net = {"WIN": bet, "LOSE": -bet, "PUSH": 0}[result.outcome]
    return Payout(result.outcome, net, result.reason)
