"""Blackjack as HTML: cards, hands, the result banner and the score.

Pure functions from the client's plain data to markup, no widgets, so the
look can be checked without a browser. The markup carries the stable
contract that tests and scripts rely on: every card is an element with class
``labkit-card`` and ``data-card`` set to the protocol's card (``10H``, or
``??`` for the dealer's hidden one); a settled round has one element with
class ``labkit-bj-result`` and ``data-outcome`` WIN, LOSE or PUSH.
"""

from __future__ import annotations

from html import escape

from ..blackjack.game import BLACKJACK, Card, Hand, Result, Score
from ..blackjack.protocol import HIDDEN

SUIT_SYMBOLS = {"C": "\u2663", "D": "\u2666", "H": "\u2665", "S": "\u2660"}
SUIT_NAMES = {"C": "clubs", "D": "diamonds", "H": "hearts", "S": "spades"}
RANK_NAMES = {"A": "ace", "J": "jack", "Q": "queen", "K": "king"}
RED_SUITS = ("D", "H")

# Why the round ended, in words, by (outcome, reason); totals filled in.
RESULT_TEXT = {
    ("WIN", "DEALER-BUST"): "You win: the dealer busts with {dealer}.",
    ("WIN", "HIGHER"): "You win, {player} against {dealer}.",
    ("LOSE", "BUST"): "You bust with {player}. The dealer wins.",
    ("LOSE", "LOWER"): "The dealer wins, {dealer} against {player}.",
    ("PUSH", "EQUAL"): "Push: {player} each.",
}


def card_html(card: Card) -> str:
    """One face-up card: rank and suit in two corners, a big suit in the middle."""
    symbol = SUIT_SYMBOLS[card.suit]
    colour = " labkit-red" if card.suit in RED_SUITS else ""
    title = f"{RANK_NAMES.get(card.rank, card.rank)} of {SUIT_NAMES[card.suit]}"
    corner = f"{card.rank}<br>{symbol}"
    return (
        f'<div class="labkit-card{colour}" data-card="{card}" title="{title}">'
        f'<span class="labkit-card-corner">{corner}</span>'
        f'<span class="labkit-card-pip">{symbol}</span>'
        f'<span class="labkit-card-corner labkit-card-corner-br">{corner}</span>'
        "</div>"
    )


def hidden_card_html() -> str:
    """The dealer's hole card, face down."""
    return (
        f'<div class="labkit-card labkit-card-back" data-card="{HIDDEN}" '
        'title="the dealer\'s hidden card"></div>'
    )


def hand_html(label: str, hand: Hand | None, round_number: int = 0) -> str:
    """A labelled hand with its total.

    ``data-round`` changes with every deal, so a page (or a test) can tell a
    new hand from the old one even when the cards happen to be the same.
    """
    if hand is None:
        cards = '<span class="labkit-hand-empty">no cards yet</span>'
        total = ""
    else:
        faces = [card_html(card) for card in hand.cards]
        if hand.hidden:
            faces.append(hidden_card_html())
        cards = "".join(faces)
        total = total_html(hand)
    return (
        f'<div class="labkit-hand" data-round="{round_number}">'
        f'<div class="labkit-hand-label">{escape(label)}{total}</div>'
        f'<div class="labkit-hand-cards">{cards}</div>'
        "</div>"
    )


def total_html(hand: Hand) -> str:
    if hand.total is None:  # the dealer's, before the reveal
        return '<span class="labkit-hand-total" data-total="?">?</span>'
    bust = hand.total > BLACKJACK
    css = "labkit-hand-total labkit-bust" if bust else "labkit-hand-total"
    text = f"{hand.total} bust" if bust else str(hand.total)
    return f'<span class="{css}" data-total="{hand.total}">{text}</span>'


def result_text(result: Result) -> str:
    template = RESULT_TEXT.get((result.outcome, result.reason), "{outcome}")
    return template.format(
        player=result.player_total,
        dealer=result.dealer_total,
        outcome=result.outcome,
    )


def result_html(result: Result | None, round_number: int = 0) -> str:
    """The banner of a settled round; nothing while a round is in play.

    ``data-round`` says which deal it settles: the page updates each widget
    on its own, so for a moment the banner may still be the last round's.
    """
    if result is None:
        return ""
    return (
        f'<div class="labkit-bj-result" data-outcome="{result.outcome}" '
        f'data-reason="{result.reason}" data-round="{round_number}">'
        f"{escape(result_text(result))}</div>"
    )


def score_text(score: Score | None) -> str:
    if score is None:
        return "no rounds settled yet"
    return f"{score.wins} won \u00b7 {score.losses} lost \u00b7 {score.pushes} pushed"


def score_html(score: Score | None) -> str:
    counts = (
        ""
        if score is None
        else (
            f' data-wins="{score.wins}" data-losses="{score.losses}"'
            f' data-pushes="{score.pushes}"'
        )
    )
    return f'<span class="labkit-score-text"{counts}>{score_text(score)}</span>'


def hand_text(hand: Hand | None) -> str:
    """A hand in protocol words, e.g. ``AS ??`` or ``9C 6D = 15``."""
    if hand is None:
        return "(no cards)"
    cards = " ".join(str(card) for card in hand.cards)
    if hand.hidden:
        return f"{cards} {HIDDEN}"
    return f"{cards} = {hand.total}"
