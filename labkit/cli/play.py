"""``python -m labkit play HOST PORT``: Blackjack in a terminal.

Speaks the protocol through :class:`~labkit.blackjack.client.BlackjackClient`,
so it plays against any server that speaks it, and stops with a clear
message when one does not. Cards are drawn as ``10♥ K♠`` with a card back for
the hidden card, or as plain ``10H KS ??`` when standard output cannot
show them (it is not UTF-8). Hands, results and the score read as the
widgets say them: the words are :mod:`labkit.blackjack.words`.
"""

from __future__ import annotations

import codecs
import sys
from typing import TextIO

from ..addresses import format_address
from ..blackjack import words
from ..blackjack.client import BlackjackClient, ServerRefused, Table
from ..blackjack.game import Hand, Result, Score
from ..clients import ConnectionClosed, ProtocolError
from . import clip

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
            say(f"Unknown: {clip(word)}. Keys: {KEYS}.")
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
            say(f"{who} {words.hand_text(event, fancy=fancy)}")
        elif isinstance(event, Result):
            say(words.result_text(event))
    table = client.table
    if table.result is not None and table.score is not None:
        _show_score(say, table.score)


def _show_score(say, score: Score) -> None:
    say(f"Score: {words.score_text(score)}.")
