"""Blackjack as HTML: cards, hands, the result banner and the score.

Pure functions from the client's plain data to markup, no widgets, so the
look can be checked without a browser. The words (a card's name, a total,
the sentence of a result, the score) come from :mod:`labkit.blackjack.words`,
which the terminal client uses too. The markup carries the stable
contract that tests and scripts rely on: every card is an element with class
``labkit-card`` and ``data-card`` set to the protocol's card (``10H``, or
``??`` for the dealer's hidden one); a settled round has one element with
class ``labkit-bj-result`` and ``data-outcome`` WIN, LOSE or PUSH.
"""

from __future__ import annotations

from html import escape

from ..blackjack import words
from ..blackjack.game import BLACKJACK, Card, Hand, Result, Score
from ..blackjack.protocol import HIDDEN

RED_SUITS = ("D", "H")


def card_html(card: Card) -> str:
    """One face-up card: rank and suit in two corners, a big suit in the middle."""
    symbol = words.suit_text(card.suit, fancy=True)
    colour = " labkit-red" if card.suit in RED_SUITS else ""
    corner = f"{card.rank}<br>{symbol}"
    return (
        f'<div class="labkit-card{colour}" data-card="{card}" '
        f'title="{words.card_name(card)}">'
        f'<span class="labkit-card-corner">{corner}</span>'
        f'<span class="labkit-card-pip">{symbol}</span>'
        f'<span class="labkit-card-corner labkit-card-corner-br">{corner}</span>'
        "</div>"
    )


def hidden_card_html() -> str:
    """The dealer's hole card, face down."""
    return (
        f'<div class="labkit-card labkit-card-back" data-card="{HIDDEN}" '
        f'title="{escape(words.HIDDEN_CARD_NAME)}"></div>'
    )


def hand_html(label: str, hand: Hand | None, round_number: int = 0) -> str:
    """A labelled hand with its total.

    ``data-round`` changes with every deal, so a page (or a test) can tell a
    new hand from the old one even when the cards happen to be the same.
    """
    if hand is None:
        cards = f'<span class="labkit-hand-empty">{escape(words.NO_CARDS)}</span>'
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
    """The total as a badge; ``data-total`` is ``?`` before the reveal."""
    over = hand.total is not None and hand.total > BLACKJACK
    css = "labkit-hand-total labkit-bust" if over else "labkit-hand-total"
    total = "?" if hand.total is None else hand.total
    text = escape(words.total_text(hand.total))
    return f'<span class="{css}" data-total="{total}">{text}</span>'


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
        f"{escape(words.result_text(result))}</div>"
    )


def score_html(score: Score | None) -> str:
    counts = (
        ""
        if score is None
        else (
            f' data-wins="{score.wins}" data-losses="{score.losses}"'
            f' data-pushes="{score.pushes}"'
        )
    )
    text = escape(words.score_text(score))
    return f'<span class="labkit-score-text"{counts}>{text}</span>'
