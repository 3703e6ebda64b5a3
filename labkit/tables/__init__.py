"""Blackjack version 2: shared tables with chips, as rules and a state machine.

    shoe    N decks shuffled together, cut at 75%, seeded
    rules   the casino's rules: splits, doubles, insurance, S17/H17, 3:2
    lines   the text of every table line (docs/protocol.md, "tables")
    table   one table as a state machine: commands and a clock in, lines out
    view    one connection's view of a table, from the lines it receives

and, not imported here, the client side over a real socket:
:mod:`labkit.tables.client` (``TableClient``) and
:mod:`labkit.tables.strategy` (a simple player for it).

Nothing imported here does I/O: a service feeds a :class:`Table` what its
connections send and routes the :class:`Send` lines it returns (see
:mod:`labkit.tables.table` for how). Cards and totals are version 1's
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
from .table import COMMANDS, Output, Seat, SeatEmptied, Send, Table

__all__ = [
    "COMMANDS",
    "CUT",
    "DEFAULT_RULES",
    "MAX_HANDS",
    "Output",
    "Payout",
    "PlayerHand",
    "Rules",
    "Seat",
    "SeatEmptied",
    "Send",
    "Shoe",
    "ShoeEmpty",
    "Table",
    "dealer_draws",
    "dealer_peeks",
    "insurance_net",
    "insurance_stake",
    "is_natural",
    "is_soft",
    "settle",
]
