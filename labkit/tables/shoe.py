"""The shoe: several decks shuffled together, dealt from the top, cut at 75%.

A casino deals Blackjack from a *shoe* of several decks rather than from one
deck, and reshuffles it long before it runs out: a dealer puts a plastic
*cut card* about three quarters of the way in, and when it comes out the
shoe is shuffled before the next hand. Dealing to the bottom would let a
player who counts the cards seen so far know what is left; the cut keeps the
last quarter unseen.

The shoe draws its randomness from the ``random.Random`` it is given, so a
seeded generator deals the same cards every run. It never decides *when* to
shuffle; the table asks :attr:`Shoe.needs_shuffle` before a hand and calls
:meth:`Shoe.shuffle`, because the table is the one that must tell everyone
(a ``SHUFFLE`` line).

A shoe can still run dry in the middle of a hand (one deck, seven players
splitting). The casino answer is to shuffle the discards; the table does
that with ``shuffle(keep_out=...)``: a fresh shoe without the cards still
lying on the table, so no card can be on the table twice more often than the
shoe has decks.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable

from ..blackjack.game import FULL_DECK, Card

CUT = 0.75  # the share of the shoe dealt before it is reshuffled


class ShoeEmpty(Exception):
    """Every card is dealt; the table must shuffle before drawing again."""


class Shoe:
    """``decks`` decks of 52 cards, shuffled by ``rng``.

    A new shoe is empty and so already ``needs_shuffle``: the first hand at
    a table starts with a shuffle, like every later one that passes the cut.
    """

    def __init__(self, decks: int, rng: random.Random) -> None:
        if decks < 1:
            raise ValueError("a shoe holds at least one deck")
        self.decks = decks
        self.size = 52 * decks
        self._rng = rng
        self._cards: list[Card] = []  # the top of the shoe is the end

    @property
    def remaining(self) -> int:
        return len(self._cards)

    @property
    def needs_shuffle(self) -> bool:
        """True once the cut card is out: 75% of a full shoe dealt."""
        return self.remaining <= self.size * (1 - CUT)

    def shuffle(self, keep_out: Iterable[Card] = ()) -> None:
        """A fresh shoe of every deck, less ``keep_out`` (cards still in play)."""
        left_out = Counter(keep_out)
        cards = []
        for card in FULL_DECK * self.decks:
            if left_out[card]:
                left_out[card] -= 1
            else:
                cards.append(card)
        self._rng.shuffle(cards)
        self._cards = cards

    def put_on_top(self, cards: Iterable[Card]) -> None:
        """Move ``cards`` to the top, to be drawn in the order given.

        For tests and lessons that need a split or a dealer blackjack on
        cue. The cards are taken out of the shoe, so the shoe still holds
        each card as often as before; a card it lacks is a ValueError.
        """
        wanted = list(cards)
        for card in wanted:
            self._cards.remove(card)
        self._cards.extend(reversed(wanted))

    def draw(self) -> Card:
        if not self._cards:
            raise ShoeEmpty("the shoe is empty; shuffle it first")
        return self._cards.pop()
