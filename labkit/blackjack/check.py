"""One checker for every Blackjack conversation: the invariants of docs/protocol.md.

Feed a :class:`Checker` the lines of one connection in the order they were
seen: ``sent(line)`` for each line the client sent, ``received(line)`` for
each line from the server. It follows the round the way a suspicious player
would and raises ProtocolError, quoting the line, at the first one that
breaks the protocol:

- WELCOME first (or ERROR BUSY and nothing more), nothing after BYE or
  ERROR IDLE-TIMEOUT;
- each command gets the lines the protocol promises, in order, and a
  command at the wrong time gets ERROR NOT-NOW and changes nothing;
- no card twice in a round; the hole card on no line before the reveal;
- every total is the best value of its cards;
- the dealer draws below 17 and only then, and not against a bust;
- RESULT agrees with the totals and the table; SCORE counts every RESULT.

Replies are matched to commands in order, so a client may send several
commands before reading (pipelining). The Blackjack client checks every
exchange with it, and the tests check every transcript with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ProtocolError
from .game import (
    ACTIONS,
    BLACKJACK,
    DEALER_STANDS_ON,
    Card,
    Hand,
    Result,
    Score,
    Turn,
    hand_total,
    settle,
)
from .protocol import VERSION, Bye, Error, Event, Info, Welcome, parse_line

MAX_LINE = 512
ROUND_COMMANDS = ("DEAL", "HIT", "STAND")

# Where a round is, as seen on the wire.
IDLE = "no round in play"
DEALING = "a dealer's hand with its hole card hidden"
DEALT = "the player's first two cards"
HITTING = "the player's hand with one more card"
TURN_DUE = "TURN"
TURN = "the player's move"
REVEAL = "the dealer's hand with its hole card shown"
DRAWING = "another dealer card or RESULT"
SETTLED = "SCORE after RESULT"


@dataclass
class _Pending:
    command: str  # upper-case word, or BAD-ENCODING / LINE-TOO-LONG
    lines: int = 0  # lines of its answer seen so far


class Checker:
    """Follows one connection; raises ProtocolError at the first bad line."""

    def __init__(self) -> None:
        self.greeted = False
        self.closed = False  # the server said it closes (BYE, BUSY, IDLE-TIMEOUT)
        self.score = Score()
        self.results: list[Result] = []
        self._quit_sent = False
        self._pending: deque[_Pending] = deque()
        self._received = 0
        self._phase = IDLE
        self._player: tuple[Card, ...] = ()
        self._dealer: tuple[Card, ...] = ()
        self._seen: set[Card] = set()
        self._words: set[str] = set()  # every word of the round's other lines

    @property
    def awaiting_reply(self) -> bool:
        """Some command sent has not had its whole answer yet."""
        return bool(self._pending)

    @property
    def players_turn(self) -> bool:
        return self._phase == TURN

    @property
    def in_play(self) -> bool:
        return self._phase != IDLE

    # -- the client's side ------------------------------------------------

    def sent(self, line: str) -> None:
        """The client sent ``line`` (without its line end)."""
        if self._quit_sent or self.closed:
            return  # the server reads nothing more
        if len(line.encode("utf-8")) > MAX_LINE:
            command = "LINE-TOO-LONG"
        elif not all(" " <= ch <= "~" or ch == "\t" for ch in line):
            command = "BAD-ENCODING"
        elif words := line.split():
            command = words[0].upper()
        else:
            return  # an empty line gets no answer
        self._quit_sent = command == "QUIT"
        self._pending.append(_Pending(command))

    # -- the server's side ------------------------------------------------

    def received(self, line: str) -> Event | None:
        """The server sent ``line``; returns it parsed (None: unknown keyword)."""
        self._received += 1
        event = parse_line(line)
        if self.in_play and not isinstance(event, Hand):
            self._words.update(line.split())  # where a leaked hole card would be
        if event is not None:
            self._receive(event, line)
        return event

    def finish(self) -> None:
        """The conversation is over: every command must have had its answer."""
        self._end_help(None)
        if self._pending:
            raise ProtocolError(
                f"the server did not finish answering {self._pending[0].command}"
            )

    def _fail(self, message: str, line: str) -> None:
        raise ProtocolError(f"server line {self._received}: {message}", line)

    def _receive(self, event: Event, line: str) -> None:
        if self.closed:
            self._fail("a line after the server closed the session", line)
        if not self.greeted:
            if isinstance(event, Error) and event.code == "BUSY":
                self._close()
            elif isinstance(event, Welcome) and event.version == VERSION:
                self.greeted = True
            else:
                self._fail(f"expected WELCOME {VERSION} first", line)
            return
        if isinstance(event, Welcome):
            self._fail("a second WELCOME", line)
        if isinstance(event, Error) and event.code == "IDLE-TIMEOUT":
            self._end_help(event)
            if self._pending and self._pending[0].lines:
                self._fail("IDLE-TIMEOUT in the middle of an answer", line)
            self._close()
            return
        self._answer(event, line)

    def _close(self) -> None:
        self.closed = True
        self._pending.clear()

    def _end_help(self, event: Event | None) -> None:
        """A HELP's INFO lines end at the first other line.

        HELPs sent back to back cannot be told apart: they are one answer,
        with at least one INFO line for each.
        """
        if isinstance(event, Info) or not self._pending:
            return
        head = self._pending[0]
        if head.command != "HELP" or not head.lines:
            return
        helps = 0
        while self._pending and self._pending[0].command == "HELP":
            self._pending.popleft()
            helps += 1
        if head.lines < helps:
            raise ProtocolError(f"{helps} HELP commands got {head.lines} INFO lines")

    def _answer(self, event: Event, line: str) -> None:
        self._end_help(event)
        if not self._pending:
            self._fail("a line that answers no command", line)
        head = self._pending[0]
        command = head.command
        if command == "HELP":
            if not isinstance(event, Info):
                self._fail("HELP is answered with INFO lines", line)
            head.lines += 1
            return
        if command in ROUND_COMMANDS:
            if self._round_command(head, event, line):
                self._pending.popleft()
            return
        if command == "QUIT":
            if not isinstance(event, Bye):
                self._fail("QUIT is answered with BYE", line)
            self._close()
            return
        if command == "SCORE":
            if not isinstance(event, Score):
                self._fail("SCORE is answered with SCORE", line)
            self._check_score(event, line)
        else:
            bad_line = command in ("BAD-ENCODING", "LINE-TOO-LONG")
            code = command if bad_line else "UNKNOWN-COMMAND"
            if not (isinstance(event, Error) and event.code == code):
                self._fail(f"expected ERROR {code} for {command}", line)
        self._pending.popleft()

    def _round_command(self, head: _Pending, event: Event, line: str) -> bool:
        """One line of the answer to DEAL, HIT or STAND; True when complete."""
        command = head.command
        if not head.lines:
            allowed = self._phase == (IDLE if command == "DEAL" else TURN)
            if isinstance(event, Error):
                if event.code != "NOT-NOW":
                    self._fail(f"{command} may only be refused with NOT-NOW", line)
                if allowed:
                    self._fail(
                        f"{command} was refused although it is allowed now", line
                    )
                return True
            if not allowed:
                self._fail(
                    f"{command} is not allowed now: expected ERROR NOT-NOW", line
                )
            self._phase = {"DEAL": DEALING, "HIT": HITTING, "STAND": REVEAL}[command]
        head.lines += 1
        return self._round_line(event, line)

    def _round_line(self, event: Event, line: str) -> bool:
        phase = self._phase
        if phase == TURN_DUE:
            if not isinstance(event, Turn) or event.actions != ACTIONS:
                self._fail("expected TURN " + " ".join(ACTIONS), line)
            self._phase = TURN
            return True
        if phase == SETTLED:
            if not isinstance(event, Score):
                self._fail("expected SCORE after RESULT", line)
            self._check_score(event, line)
            self._phase = IDLE
            return True
        if phase == DRAWING and isinstance(event, Result):
            self._settle(event, line)
            return False
        if not isinstance(event, Hand):
            self._fail(f"expected {phase}", line)
        if phase == DEALING:
            if not event.hidden:
                self._fail(
                    "DEAL must show the dealer's hand with the hole card hidden", line
                )
            self._seen, self._words = set(), set()
            self._player, self._dealer = (), ()
            self._add_cards(event, (), line)
            self._dealer = event.cards
            self._phase = DEALT
            return False
        if event.hidden:
            self._fail("the hole card is hidden only when dealt", line)
        if phase in (DEALT, HITTING):
            before = () if phase == DEALT else self._player
            if event.who != "PLAYER" or len(event.cards) != max(2, len(before) + 1):
                self._fail(f"expected {phase}", line)
            self._add_cards(event, before, line)
            self._player = event.cards
            self._phase = TURN_DUE if event.total < BLACKJACK else REVEAL
            return False
        if event.who != "DEALER":
            self._fail(f"expected {phase}", line)
        if phase == REVEAL:
            if len(event.cards) != 2 or event.cards[0] != self._dealer[0]:
                self._fail("the reveal must show the upcard and the hole card", line)
            if str(event.cards[1]) in self._words:
                self._fail("the hole card was on the wire before the reveal", line)
        else:  # DRAWING
            total = hand_total(self._dealer)
            if hand_total(self._player) > BLACKJACK:
                self._fail("the dealer drew although the player went over 21", line)
            if total >= DEALER_STANDS_ON:
                self._fail(f"the dealer drew at {total}", line)
            if len(event.cards) != len(self._dealer) + 1:
                self._fail("the dealer draws one card at a time", line)
        self._add_cards(
            event, self._dealer if phase == DRAWING else self._dealer[:1], line
        )
        self._dealer = event.cards
        self._phase = DRAWING
        return False

    def _add_cards(self, hand: Hand, before: tuple[Card, ...], line: str) -> None:
        if hand.cards[: len(before)] != before:
            self._fail("a hand lost or changed a card", line)
        if not hand.hidden and hand.total != hand_total(hand.cards):
            self._fail(
                f"the total is not the best value of the cards "
                f"({hand_total(hand.cards)})",
                line,
            )
        for card in hand.cards[len(before) :]:
            if card in self._seen:
                self._fail(f"{card} appears twice in the round", line)
            self._seen.add(card)

    def _settle(self, result: Result, line: str) -> None:
        player, dealer = hand_total(self._player), hand_total(self._dealer)
        if player <= BLACKJACK and dealer < DEALER_STANDS_ON:
            self._fail(f"the dealer stopped at {dealer}", line)
        if result != settle(player, dealer):
            self._fail(
                f"RESULT does not agree with the hands ({player} against {dealer})",
                line,
            )
        self.results.append(result)
        self.score = self.score.counting(result)
        self._phase = SETTLED

    def _check_score(self, score: Score, line: str) -> None:
        if score != self.score:
            s = self.score
            self._fail(f"SCORE should be {s.wins} {s.losses} {s.pushes}", line)


def check_transcript(
    transcript: Iterable[tuple[str, str]], *, complete: bool = True
) -> Checker:
    """Check a whole conversation, as ("C", line) and ("S", line) pairs.

    ``complete``: the conversation is over, so every command must have had
    its whole answer. Returns the checker (its ``score``, its ``results``).
    """
    checker = Checker()
    for side, line in transcript:
        if side == "C":
            checker.sent(line)
        elif side == "S":
            checker.received(line)
        else:
            raise ValueError(f"a transcript side is 'C' or 'S', not {side!r}")
    if complete:
        checker.finish()
    return checker
