"""Blackjack in words: cards, hands, results and the score as a learner reads them.

Plain functions from the game's data (:mod:`labkit.blackjack.game`) to text,
no I/O. The terminal client and the widgets both say things through here, so
a round reads the same wherever it is played. A front end still chooses how
to draw a suit: ``fancy=True`` gives ``10♥``, the default the protocol's
``10H``.

    >>> from labkit.blackjack.game import Card, Hand, settle
    >>> hand_text(Hand.of("PLAYER", [Card("5", "D"), Card("6", "H")]))
    '5D 6H  (11)'
    >>> result_text(settle(20, 26))
    'You win: the dealer went over 21 (26).'
"""

from __future__ import annotations

from .game import BLACKJACK, Card, Hand, Result, Score
from .protocol import HIDDEN

SUIT_SYMBOLS = {"C": "\u2663", "D": "\u2666", "H": "\u2665", "S": "\u2660"}
SUIT_NAMES = {"C": "clubs", "D": "diamonds", "H": "hearts", "S": "spades"}
RANK_NAMES = {"A": "ace", "J": "jack", "Q": "queen", "K": "king"}
CARD_BACK = "\U0001f0a0"  # PLAYING CARD BACK: the hidden card, drawn
HIDDEN_CARD_NAME = "the dealer's hidden card"
NO_CARDS = "no cards yet"
NO_SCORE = "no rounds settled yet"

# Why a round ended, by the protocol's reason; the totals are filled in.
RESULT_SENTENCES = {
    "BUST": "You lose: you went over 21 ({player}).",
    "DEALER-BUST": "You win: the dealer went over 21 ({dealer}).",
    "HIGHER": "You win: your {player} beats the dealer's {dealer}.",
    "LOWER": "You lose: the dealer's {dealer} beats your {player}.",
    "EQUAL": "A tie (push): you both have {player}.",
}


def suit_text(suit: str, *, fancy: bool = False) -> str:
    """``H``, or ``♥`` when ``fancy``."""
    return SUIT_SYMBOLS[suit] if fancy else suit


def card_text(card: Card, *, fancy: bool = False) -> str:
    """``10H``, or ``10♥`` when ``fancy``."""
    return card.rank + suit_text(card.suit, fancy=fancy)


def hidden_card_text(*, fancy: bool = False) -> str:
    """The dealer's face-down card: ``??`` as the protocol sends it, or a card back."""
    return CARD_BACK if fancy else HIDDEN


def card_name(card: Card) -> str:
    """``ace of spades``, ``10 of hearts``: a card read aloud."""
    return f"{RANK_NAMES.get(card.rank, card.rank)} of {SUIT_NAMES[card.suit]}"


def total_text(total: int | None) -> str:
    """``15``, ``26, over 21``, or ``?`` while the dealer's hole card is hidden."""
    if total is None:
        return "?"
    return f"{total}, over {BLACKJACK}" if total > BLACKJACK else str(total)


def hand_text(hand: Hand | None, *, fancy: bool = False) -> str:
    """A hand with its total: ``5D 6H  (11)``, ``AS ??`` before the reveal."""
    if hand is None:
        return NO_CARDS
    cards = " ".join(card_text(card, fancy=fancy) for card in hand.cards)
    if hand.hidden:
        return f"{cards} {hidden_card_text(fancy=fancy)}"
    return f"{cards}  ({total_text(hand.total)})"


def result_text(result: Result) -> str:
    """Who won and why, in one sentence: ``You win: the dealer went over 21 (26).``"""
    sentence = RESULT_SENTENCES.get(
        result.reason, "{outcome}: you have {player}, the dealer {dealer} ({reason})."
    )
    return sentence.format(
        outcome=result.outcome,
        reason=result.reason,
        player=result.player_total,
        dealer=result.dealer_total,
    )


def score_text(score: Score | None) -> str:
    """``2 won, 1 lost, 0 pushed``, or that no round has been settled."""
    if score is None:
        return NO_SCORE
    return f"{score.wins} won, {score.losses} lost, {score.pushes} pushed"
