"""``python -m labkit play HOST PORT``: Blackjack in a terminal.

Speaks the protocol through :class:`~labkit.blackjack.client.BlackjackClient`,
so it plays against any server that speaks it, and stops with a clear
message when one does not. Cards are drawn as ``10♥ K♠`` with a card back for
the hidden card, or as plain ``10H KS ??`` when standard output cannot
show them (it is not UTF-8).
"""

from __future__ import annotations

import codecs
import sys
from typing import TextIO

from ..addresses import format_address
from ..blackjack.client import BlackjackClient, ServerRefused, Table
from ..blackjack.game import Card, Hand, Result
from ..clients import ConnectionClosed, ProtocolError

SUIT_SYMBOLS = {"C": "\u2663", "D": "\u2666", "H": "\u2665", "S": "\u2660"}
CARD_BACK = "\U0001f0a0"  # PLAYING CARD BACK

COMMANDS = {
    "d": "deal", "deal": "deal",
    "h": "hit", "hit": "hit",
    "s": "stand", "stand": "stand",
    "q": "quit", "quit": "quit", "exit": "quit",
    "score": "score",
    "help": "help", "?": "help",
}  # fmt: skip
KEYS = "d deal, h hit, s stand, q quit; or type score, help"


def can_draw_suits(stream: TextIO) -> bool:
    """True when ``stream`` is UTF-8, so suit symbols reach the screen."""
    try:
        return codecs.lookup(stream.encoding or "ascii").name == "utf-8"
    except (AttributeError, LookupError):
        return False


def card_text(card: Card, fancy: bool) -> str:
    return card.rank + (SUIT_SYMBOLS[card.suit] if fancy else card.suit)


def hand_text(hand: Hand, fancy: bool) -> str:
    cards = [card_text(card, fancy) for card in hand.cards]
    if hand.hidden:
        return " ".join([*cards, CARD_BACK if fancy else "??"])
    return f"{' '.join(cards)}  ({hand.total})"


def result_text(result: Result) -> str:
    you, dealer = result.player_total, result.dealer_total
    return {
        "BUST": f"You lose: you went over 21 ({you}).",
        "DEALER-BUST": f"You win: the dealer went over 21 ({dealer}).",
        "HIGHER": f"You win: {you} beats the dealer's {dealer}.",
        "LOWER": f"You lose: the dealer's {dealer} beats {you}.",
        "EQUAL": f"Push: {you} each.",
    }.get(result.reason, f"{result.outcome} {you} {dealer} {result.reason}")


def prompt_text(table: Table) -> str:
    if table.actions:
        return "[h]it or [s]tand? "
    return "[d]eal or [q]uit? "


def play(
    host: str,
    port: int,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    timeout: float = 10.0,
) -> int:
    """Play until the player quits or input ends; returns the exit status."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    fancy = can_draw_suits(out)

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    where = format_address(host, port)
    try:
        client = BlackjackClient(host, port, timeout=timeout)
    except ServerRefused as exc:
        say(f"{where} turned us away: {exc.text}")
        return 1
    except (OSError, ProtocolError) as exc:
        say(f"Could not play at {where}: {exc}")
        return 1
    with client:
        say(f"Connected to {where}: {client.welcome.version} {client.welcome.text}")
        say(f"Keys: {KEYS}.")
        try:
            return _loop(client, stdin, out, say, fancy)
        except ServerRefused as exc:  # IDLE-TIMEOUT, or a refusal we did not expect
            say(f"The server says: {exc.code} {exc.text}")
        except ConnectionClosed:
            say("The server closed the connection.")
        except ProtocolError as exc:
            say(f"The server broke the protocol: {exc}")
        except OSError as exc:
            say(f"The connection failed: {exc}")
        return 1


def _loop(client: BlackjackClient, stdin: TextIO, out: TextIO, say, fancy: bool) -> int:
    table = client.table
    while True:
        out.write(prompt_text(table))
        out.flush()
        typed = stdin.readline()
        if not typed:  # end of input: leave politely
            say()
            typed = "quit"
        word = typed.strip().lower()
        if not word:
            continue
        command = COMMANDS.get(word)
        if command is None:
            say(f"Unknown: {word!r}. Keys: {KEYS}.")
            continue
        if command == "quit":
            say(f"Server: {client.quit()}")
            return 0
        if command == "help":
            for text in client.help():
                say(f"  {text}")
            continue
        if command == "score":
            _show_score(say, client.score())
            continue
        try:
            table = getattr(client, command)()
        except ServerRefused as exc:
            if exc.code != "NOT-NOW":
                raise
            say(f"Not now: {exc.text}")
            continue
        _show(client, say, fancy)


def _show(client: BlackjackClient, say, fancy: bool) -> None:
    """The lines of the last answer, one per event, as they happened."""
    for event in client.events:
        if isinstance(event, Hand):
            who = "Dealer:" if event.who == "DEALER" else "You:   "
            say(f"{who} {hand_text(event, fancy)}")
        elif isinstance(event, Result):
            say(result_text(event))
    table = client.table
    if table.result is not None and table.score is not None:
        _show_score(say, table.score)


def _show_score(say, score) -> None:
    say(f"Score: {score.wins} won, {score.losses} lost, {score.pushes} pushed.")
