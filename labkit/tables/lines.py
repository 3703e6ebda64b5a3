"""The text of every line a table sends (docs/protocol.md, "Table lines").

One function per line, so the table's logic never formats text and the
wire format can be read in one screen. Pure functions of plain values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..blackjack.game import Card, hand_total
from ..blackjack.protocol import HIDDEN
from .rules import Payout

VERSION = "labkit-blackjack/2"


def seconds(value: float) -> int:
    """Whole seconds, rounded up: 0.2 s left is still ``1``, never ``0``."""
    return max(1, math.ceil(value))


def cards_text(cards: Sequence[Card]) -> str:
    return " ".join(map(str, cards))


def seat_line(seat: int, name: str, chips: int) -> str:
    return f"SEAT {seat} {name} {chips}"


def empty_line(seat: int) -> str:
    return f"EMPTY {seat}"


def betting_line(left: float) -> str:
    return f"BETTING {seconds(left)}"


def bet_line(seat: int, amount: int) -> str:
    return f"BET {seat} {amount}"


def shuffle_line(decks: int) -> str:
    return f"SHUFFLE {decks}"


def dealer_hidden_line(upcard: Card) -> str:
    return f"HAND DEALER ? {upcard} {HIDDEN}"


def dealer_line(cards: Sequence[Card]) -> str:
    return f"HAND DEALER {hand_total(cards)} {cards_text(cards)}"


def hand_line(seat: int, hand: int, bet: int, cards: Sequence[Card]) -> str:
    return f"HAND {seat}:{hand} {bet} {hand_total(cards)} {cards_text(cards)}"


def turn_line(seat: int, hand: int, left: float, actions: Sequence[str]) -> str:
    """``TURN 0:0 ...`` is the insurance window: the whole table may act."""
    return f"TURN {seat}:{hand} {seconds(left)} {' '.join(actions)}"


def action_line(seat: int, hand: int, action: str, timeout: bool = False) -> str:
    return f"ACTION {seat}:{hand} {action}" + (" TIMEOUT" if timeout else "")


def payout_line(seat: int, hand: int, payout: Payout) -> str:
    return f"PAYOUT {seat}:{hand} {payout.outcome} {payout.net} {payout.reason}"


def insurance_line(seat: int, net: int) -> str:
    return f"INSURANCE {seat} {net}"


def chips_line(seat: int, chips: int) -> str:
    return f"CHIPS {seat} {chips}"


def seated_line(table: int, seat: int, chips: int, token: str) -> str:
    return f"SEATED {table} {seat} {chips} {token}"


def watching_line(table: int) -> str:
    return f"WATCHING {table}"


def left_line(table: int) -> str:
    return f"LEFT {table}"


def error_line(code: str, text: str) -> str:
    return f"ERROR {code} {text}"


STATE_BEGIN = "STATE BEGIN"
STATE_END = "STATE END"
