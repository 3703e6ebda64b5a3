"""Blackjack: the game (sans-IO), its wire protocol, a checker, and a client.

    game      cards, hands, a round, the tally; no I/O
    protocol  server lines <-> the game's plain data
    check     the protocol's invariants, for any transcript
    client    BlackjackClient, over a real socket
    words     cards, hands, results and the score in words, for every front end

The server side is :class:`labkit.services.blackjack.BlackjackSession`.
game, protocol, check and words import no I/O; the client, imported here
with them, needs only ``socket``.
"""

from __future__ import annotations

from .check import Checker, check_transcript
from .client import BlackjackClient, ServerRefused, Table
from .game import (
    FULL_DECK,
    Card,
    Game,
    Hand,
    NotNow,
    Result,
    Round,
    Score,
    Turn,
    hand_total,
    settle,
    shuffled_deck,
)
from .protocol import Bye, Error, Info, Welcome, format_event, parse_line

__all__ = [
    "FULL_DECK",
    "BlackjackClient",
    "Bye",
    "Card",
    "Checker",
    "Error",
    "Game",
    "Hand",
    "Info",
    "NotNow",
    "Result",
    "Round",
    "Score",
    "ServerRefused",
    "Table",
    "Turn",
    "Welcome",
    "check_transcript",
    "format_event",
    "hand_total",
    "parse_line",
    "settle",
    "shuffled_deck",
]
