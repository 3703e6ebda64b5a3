"""The Blackjack protocol's lines, both ways (docs/protocol.md, "blackjack, version 1").

``format_event`` is what the server sends for an event of the game;
``parse_line`` turns a server line back into the same plain data, for
clients. Both are pure functions of text: no sockets, no state. The order
of lines is checked by :mod:`labkit.blackjack.check`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ProtocolError
from .game import (
    ACTIONS,
    Card,
    GameEvent,
    Hand,
    Result,
    Score,
    Turn,
)

VERSION = "labkit-blackjack/1"
HIDDEN = "??"  # the dealer's hole card, face down
OUTCOMES = {
    "WIN": ("DEALER-BUST", "HIGHER"),
    "LOSE": ("BUST", "LOWER"),
    "PUSH": ("EQUAL",),
}


@dataclass(frozen=True)
class Welcome:
    version: str
    text: str


@dataclass(frozen=True)
class Info:
    text: str


@dataclass(frozen=True)
class Error:
    code: str
    text: str


@dataclass(frozen=True)
class Bye:
    text: str


Event = Welcome | Info | Error | Bye | GameEvent

_KEYWORD = re.compile(r"[A-Z][A-Z0-9-]*\Z")
_NUMBER = re.compile(r"(0|[1-9][0-9]*)\Z")


def format_event(event: Event) -> str:
    """The protocol line for ``event``, without its CRLF."""
    if isinstance(event, Hand):
        if event.hidden:
            return f"HAND {event.who} ? {event.cards[0]} {HIDDEN}"
        cards = " ".join(map(str, event.cards))
        return f"HAND {event.who} {event.total} {cards}"
    if isinstance(event, Turn):
        return "TURN " + " ".join(event.actions)
    if isinstance(event, Result):
        e = event
        return f"RESULT {e.outcome} {e.player_total} {e.dealer_total} {e.reason}"
    if isinstance(event, Score):
        return f"SCORE {event.wins} {event.losses} {event.pushes}"
    if isinstance(event, Welcome):
        return f"WELCOME {event.version} {event.text}"
    if isinstance(event, Info):
        return f"INFO {event.text}"
    if isinstance(event, Error):
        return f"ERROR {event.code} {event.text}"
    if isinstance(event, Bye):
        return f"BYE {event.text}"
    raise TypeError(f"not a protocol event: {event!r}")


def parse_line(line: str) -> Event | None:
    """The event a server line stands for; None for an unknown keyword.

    Raises ProtocolError, quoting the line, when a known keyword is followed
    by something the protocol does not allow. Whether the line may come at
    this point, and whether its totals are right, is the checker's business.
    """
    if not line or not all(" " <= ch <= "~" for ch in line):
        raise ProtocolError("a server line must be printable ASCII, not empty", line)
    keyword, _, rest = line.partition(" ")
    if not _KEYWORD.match(keyword):
        raise ProtocolError("a server line must begin with an upper-case KEYWORD", line)
    parser = _PARSERS.get(keyword)
    if parser is None:
        return None  # a later version's line: clients ignore it
    try:
        return parser(rest.split(), rest)
    except (ValueError, IndexError):
        raise ProtocolError(f"malformed {keyword} line", line) from None


def _number(word: str) -> int:
    if not _NUMBER.match(word):
        raise ValueError(word)
    return int(word)


def _hand(words: list[str], rest: str) -> Hand:
    who, total, *cards = words
    if who not in ("DEALER", "PLAYER") or not cards:
        raise ValueError(rest)
    if total == "?":
        if who != "DEALER" or len(cards) != 2 or cards[1] != HIDDEN:
            raise ValueError(rest)
        return Hand.dealer_hidden(Card.parse(cards[0]))
    return Hand(who, tuple(Card.parse(card) for card in cards), _number(total))


def _turn(words: list[str], rest: str) -> Turn:
    if not words or any(word not in ACTIONS for word in words):
        raise ValueError(rest)
    return Turn(tuple(words))


def _result(words: list[str], rest: str) -> Result:
    outcome, player, dealer, reason = words
    if reason not in OUTCOMES.get(outcome, ()):
        raise ValueError(rest)
    return Result(outcome, _number(player), _number(dealer), reason)


def _score(words: list[str], rest: str) -> Score:
    wins, losses, pushes = words
    return Score(_number(wins), _number(losses), _number(pushes))


def _welcome(words: list[str], rest: str) -> Welcome:
    version, _, text = rest.partition(" ")
    if not version:
        raise ValueError(rest)
    return Welcome(version, text)


def _error(words: list[str], rest: str) -> Error:
    code, _, text = rest.partition(" ")
    if not _KEYWORD.match(code):
        raise ValueError(rest)
    return Error(code, text)


_PARSERS = {
    "HAND": _hand,
    "TURN": _turn,
    "RESULT": _result,
    "SCORE": _score,
    "WELCOME": _welcome,
    "INFO": lambda words, rest: Info(rest),
    "ERROR": _error,
    "BYE": lambda words, rest: Bye(rest),
}

__all__ = [
    "HIDDEN",
    "VERSION",
    "Bye",
    "Error",
    "Event",
    "Info",
    "Welcome",
    "format_event",
    "parse_line",
]
