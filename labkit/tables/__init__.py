"""Blackjack version 2: shared tables with chips, as rules and a state machine.

    shoe    N decks shuffled together, cut at 75%, seeded
    rules   the casino's rules: splits, doubles, insurance, S17/H17, 3:2
    lines   the text of every table line (docs/protocol.md, "tables")

Nothing here does I/O. Cards and totals are version 1's
(:mod:`labkit.blackjack.game`).
"""

from __future__ import annotations

from .rules import (
    DEFAULT_RULES,
    MAX_HANDS,
    Payout,
    PlayerHand,
    Rules,
    dealer_draws,
    dealer_peeks,
    insurance_net,
    insurance_stake,
    is_natural,
    is_soft,
    settle,
)
from .shoe import CUT, Shoe, ShoeEmpty

__all__ = [
    "CUT",
    "DEFAULT_RULES",
    "MAX_HANDS",
    "Payout",
    "PlayerHand",
    "Rules",
    "Shoe",
    "ShoeEmpty",
    "dealer_draws",
    "dealer_peeks",
    "insurance_net",
    "insurance_stake",
    "is_natural",
    "is_soft",
    "settle",
]
