"""Blackjack servers as learners write them: one correct, then one bug each.

:class:`Blackjack` is the lecture's threaded server written from
docs/protocol.md with plain sockets and threads. Each bug is a subclass
that changes one method, the way a learner's version differs in one place.
"""

from __future__ import annotations

import random
import threading

RANKS = ["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"]
IAC, IP, DO, WILL, SB, SE = 255, 244, 253, 251, 250, 240


class Blackjack:
    """Correct: every rule of version 1 and the common rules."""

    limit = 512  # bytes in a line
    telnet = True  # remove telnet's commands from lines

    def __init__(self, listener) -> None:
        self.listener = listener

    @classmethod
    def serve(cls, listener) -> None:
        cls(listener).accept_loop()

    def accept_loop(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            self.start(conn)

    def start(self, conn) -> None:
        threading.Thread(
            target=self.handle, args=(conn,), name="gallery-handler", daemon=True
        ).start()

    # -- one connection ---------------------------------------------------------

    def handle(self, conn) -> None:
        with conn:
            try:
                self.send(conn, "WELCOME labkit-blackjack/1 type HELP for commands")
                game = {"deck": [], "player": [], "dealer": [], "score": [0, 0, 0]}
                for line in self.lines(conn):
                    if not self.answer(conn, game, line):
                        return
            except OSError:
                pass

    def send(self, conn, line: str) -> None:
        conn.sendall((line + "\r\n").encode("ascii"))

    def lines(self, conn):
        """Whole lines as bytes: telnet commands removed, 512 bytes at most."""
        line, too_long, state = bytearray(), False, "data"
        while data := conn.recv(4096):
            for byte in data:
                if state == "iac":
                    state = "data"
                    if byte == IP:
                        line.clear()
                        too_long = False
                    elif byte == SB:
                        state = "sb"
                    elif byte in (251, 252, 253, 254):
                        state = "do" if byte == DO else "option"
                    elif byte == IAC:
                        line.append(byte)
                elif state in ("option", "do"):
                    if state == "do" and byte == 6:
                        conn.sendall(bytes([IAC, WILL, 6]))
                    state = "data"
                elif state in ("sb", "sb-iac"):
                    state = (
                        "data"
                        if state == "sb-iac" and byte == SE
                        else ("sb-iac" if byte == IAC else "sb")
                    )
                elif byte == IAC and self.telnet:
                    state = "iac"
                elif byte == 10:
                    if not too_long:
                        yield bytes(line.removesuffix(b"\r"))
                    line.clear()
                    too_long = False
                elif not too_long:
                    line.append(byte)
                    if self.limit and len(line) > self.limit + (line[-1] == 13):
                        self.send(
                            conn, "ERROR LINE-TOO-LONG lines are limited to 512 bytes"
                        )
                        too_long = True
                        line.clear()
        if line and not too_long:
            yield bytes(line)

    def answer(self, conn, game, raw: bytes) -> bool:
        """Answer one line; False when the connection should close."""
        if any(not (32 <= byte <= 126 or byte == 9) for byte in raw):
            self.send(conn, "ERROR BAD-ENCODING lines must be printable ASCII")
            return True
        words = raw.decode("ascii").split()
        if not words:
            return True
        command = self.command_word(words[0])
        in_play = bool(game["player"])
        if command == "QUIT":
            self.send(conn, "BYE see you next time")
            return False
        if command == "SCORE":
            self.send(conn, "SCORE {} {} {}".format(*game["score"]))
        elif command == "HELP":
            self.send(conn, "INFO DEAL, HIT, STAND, SCORE, HELP, QUIT")
        elif command == "DEAL" and not in_play:
            self.deal(conn, game)
        elif command in ("HIT", "STAND") and in_play:
            self.move(conn, game, command)
        elif command in ("DEAL", "HIT", "STAND"):
            self.send(conn, "ERROR NOT-NOW not at this moment")
        else:
            self.unknown(conn, words[0])
        return True

    def command_word(self, word: str) -> str:
        return word.upper()

    def unknown(self, conn, word: str) -> None:
        self.send(conn, f"ERROR UNKNOWN-COMMAND {word} is not a command; try HELP")

    # -- the game ---------------------------------------------------------------

    def new_deck(self) -> list[str]:
        deck = [rank + suit for rank in RANKS for suit in "CDHS"]
        random.shuffle(deck)
        return deck

    def draw(self, game) -> str:
        return game["deck"].pop()

    def value(self, card: str) -> int:
        rank = card[:-1]
        return 1 if rank == "A" else 10 if rank in "JQK" else int(rank)

    def total(self, cards: list[str]) -> int:
        total = sum(self.value(card) for card in cards)
        if any(card[0] == "A" for card in cards) and total + 10 <= 21:
            total += 10
        return total

    def dealer_draws(self, cards: list[str]) -> bool:
        return self.total(cards) < 17

    def hand(self, who: str, cards: list[str]) -> str:
        return f"HAND {who} {self.total(cards)} {' '.join(cards)}"

    def deal(self, conn, game) -> None:
        game["deck"] = self.new_deck()
        player, dealer = [], []
        for _ in range(2):
            player.append(self.draw(game))
            dealer.append(self.draw(game))
        game["player"], game["dealer"] = player, dealer
        self.show_deal(conn, dealer)
        self.send(conn, self.hand("PLAYER", player))
        self.after_player_card(conn, game)

    def show_deal(self, conn, dealer: list[str]) -> None:
        self.send(conn, f"HAND DEALER ? {dealer[0]} ??")

    def turn(self, conn) -> None:
        self.send(conn, "TURN HIT STAND")

    def after_player_card(self, conn, game) -> None:
        if self.total(game["player"]) < 21:
            self.turn(conn)
        else:
            self.finish(conn, game)

    def move(self, conn, game, command: str) -> None:
        if command == "HIT":
            game["player"].append(self.draw(game))
            self.send(conn, self.hand("PLAYER", game["player"]))
            self.after_player_card(conn, game)
        else:
            self.finish(conn, game)

    def finish(self, conn, game) -> None:
        player, dealer = game["player"], game["dealer"]
        self.send(conn, self.hand("DEALER", dealer))
        mine = self.total(player)
        if mine <= 21:
            while self.dealer_draws(dealer):
                dealer.append(self.draw(game))
                self.send(conn, self.hand("DEALER", dealer))
        theirs = self.total(dealer)
        if mine > 21:
            outcome, reason, index = "LOSE", "BUST", 1
        elif theirs > 21:
            outcome, reason, index = "WIN", "DEALER-BUST", 0
        elif mine > theirs:
            outcome, reason, index = "WIN", "HIGHER", 0
        elif mine < theirs:
            outcome, reason, index = "LOSE", "LOWER", 1
        else:
            outcome, reason, index = "PUSH", "EQUAL", 2
        game["score"][index] += 1
        self.send(conn, f"RESULT {outcome} {mine} {theirs} {reason}")
        self.send(conn, "SCORE {} {} {}".format(*game["score"]))
        game["player"], game["dealer"] = [], []


class NoThreads(Blackjack):
    """Bug: no threads. One player at a time; the others wait in the backlog."""

    def start(self, conn) -> None:
        self.handle(conn)


class OneRecvPerCommand(Blackjack):
    """Bug: no recv loop for lines. Each recv is taken to be one whole line.

    With no buffer there is no line limit and no telnet handling either.
    """

    def lines(self, conn):
        while data := conn.recv(1024):
            yield data.rstrip(b"\r\n")


class DealerStandsOn16(Blackjack):
    """Bug: the dealer rule. The dealer draws below 16 and stands on 16."""

    def dealer_draws(self, cards) -> bool:
        return self.total(cards) < 16


class DealerHitsSoft17(Blackjack):
    """Bug: the dealer rule. The dealer hits a soft 17 (an ace counted 11)."""

    def dealer_draws(self, cards) -> bool:
        total = self.total(cards)
        soft = any(c[0] == "A" for c in cards) and sum(map(self.value, cards)) < total
        return total < 17 or (total == 17 and soft)


class AcesAlways11(Blackjack):
    """Bug: aces. An ace always counts 11, even when that goes over 21."""

    def total(self, cards) -> int:
        return sum(11 if c[0] == "A" else self.value(c) for c in cards)


class AcesAlways1(Blackjack):
    """Bug: aces. An ace always counts 1, never 11."""

    def total(self, cards) -> int:
        return sum(self.value(card) for card in cards)


class NoDeck(Blackjack):
    """Bug: no deck. Each card is random.choice of 52, so one can come twice."""

    def draw(self, game) -> str:
        return random.choice([rank + suit for rank in RANKS for suit in "CDHS"])


class HoleCardShown(Blackjack):
    """Bug: the hole card is shown on the deal."""

    def show_deal(self, conn, dealer) -> None:
        self.send(conn, self.hand("DEALER", dealer))


class NoTurnLine(Blackjack):
    """Bug: no TURN line. The client is never told it may move."""

    def turn(self, conn) -> None:
        pass


class CrashesOnNonAscii(Blackjack):
    """Bug: decodes before checking, so a non-ASCII byte kills the thread."""

    def answer(self, conn, game, raw: bytes) -> bool:
        raw.decode("ascii")  # UnicodeDecodeError: the handler thread dies
        return super().answer(conn, game, raw)


class LfOnly(Blackjack):
    """Bug: ends lines with '\\n' alone, not CRLF."""

    def send(self, conn, line: str) -> None:
        conn.sendall((line + "\n").encode("ascii"))


class CaseSensitive(Blackjack):
    """Bug: commands are case-sensitive: 'deal' is unknown."""

    def command_word(self, word: str) -> str:
        return word


class WrongErrorCode(Blackjack):
    """Bug: an unknown command gets ERROR NOT-NOW, not ERROR UNKNOWN-COMMAND."""

    def unknown(self, conn, word: str) -> None:
        self.send(conn, "ERROR NOT-NOW what?")


class NoLineLimit(Blackjack):
    """Bug: no line limit. A long line is held whole and answered as a command."""

    limit = None


class IgnoresTelnet(Blackjack):
    """Bug: telnet's commands are left in the lines (IAC bytes and all)."""

    telnet = False


BUGS = {  # server: the cases that fail
    NoThreads: {"several-players"},
    OneRecvPerCommand: {
        "split-line",
        "lines-together",
        "line-limit",
        "telnet-commands",
        "telnet-ctrl-c",
    },
    DealerStandsOn16: {"dealer-rule"},
    DealerHitsSoft17: {"dealer-rule"},
    AcesAlways11: {"totals"},
    AcesAlways1: {"totals"},
    NoDeck: {"one-deck"},
    HoleCardShown: {"hole-card"},
    NoTurnLine: {"turn-line"},
    CrashesOnNonAscii: {"non-ascii"},
    LfOnly: {"crlf"},
    CaseSensitive: {"case-insensitive"},
    WrongErrorCode: {"unknown-command"},
    NoLineLimit: {"line-limit"},
    IgnoresTelnet: {"telnet-commands", "telnet-ctrl-c"},
}
