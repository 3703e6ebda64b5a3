"""blackjack: the lecture's Blackjack server, protocol version 1 (docs/protocol.md).

One :class:`~labkit.blackjack.game.Game` per connection: its own deck, its
own round, its own tally. With a seed every connection gets its own
``Random(seed)``, so the same commands deal the same cards on every
connection, whatever the others do; without one, cards come from the
operating system's randomness. Lines in, lines out, no sockets: the
transports carry the bytes.
"""

from __future__ import annotations

import random

from ..blackjack.game import Game, NotNow
from ..blackjack.protocol import VERSION, Info, Welcome, format_event
from ..limits import DEFAULT_LIMITS, Limits
from ..session import LineSession, protocol_line

HELP = (
    "Blackjack: get closer to 21 than the dealer without going over.",
    "Cards count their number; J, Q and K count 10; an ace counts 11, or 1 "
    "when 11 would go over 21.",
    "DEAL gives you two cards and the dealer two, one of them face down (??).",
    "HIT takes one more card; STAND ends your turn. At exactly 21 you stand; "
    "over 21 you lose at once.",
    "Then the dealer turns the hidden card over and draws while under 17 "
    "(and stands on every 17).",
    "Closer to 21 wins; the same total is a push. SCORE shows wins, losses "
    "and pushes; QUIT leaves.",
)


class BlackjackSession(LineSession):
    """Blackjack for one connection: DEAL, HIT, STAND, SCORE, HELP (and QUIT)."""

    greeting = Welcome(VERSION, "type HELP for commands")

    def __init__(
        self,
        peer: str,
        limits: Limits = DEFAULT_LIMITS,
        *,
        seed: int | None = None,
        **options,
    ) -> None:
        super().__init__(peer, limits, **options)
        # Random() seeds itself from the operating system's randomness once;
        # SystemRandom would make a system call for every card of every
        # shuffle (51 per DEAL), four times the cost of the rest of a round.
        rng = random.Random() if seed is None else random.Random(seed)
        self.game = Game(rng)

    def connection_made(self) -> bytes:
        return protocol_line(format_event(self.greeting))

    def handle_command(self, command: str, argument: str) -> None:
        # Words after a command are ignored: "hit me" is a HIT.
        moves = {"DEAL": self.game.deal, "HIT": self.game.hit, "STAND": self.game.stand}
        if command in moves:
            try:
                events = moves[command]()
            except NotNow as exc:
                self.send_error("NOT-NOW", str(exc))
                return
            for event in events:
                self.send_line(format_event(event))
        elif command == "SCORE":
            self.send_line(format_event(self.game.score))
        elif command == "HELP":
            for text in HELP:
                self.send_line(format_event(Info(text)))
        else:
            self.send_error("UNKNOWN-COMMAND", f"{command} is not a command; try HELP")
