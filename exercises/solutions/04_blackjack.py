"""Exercise 4, a solution: the lecture's Blackjack server, threaded.

Written from docs/protocol.md (blackjack, version 1, and the common rules for
line services) with the standard library only, as a learner would write it:
one thread per client; a reader that turns bytes into lines (telnet commands,
the 512-byte limit, bad bytes); a game that turns a command into lines to send.
"""

import random
import threading

WELCOME = "WELCOME labkit-blackjack/1 type HELP for commands"
HELP = [
    "INFO Blackjack: get closer to 21 than the dealer without going over.",
    "INFO Cards count their number; J, Q and K count 10; an ace counts 11,"
    " or 1 when 11 would go over 21.",
    "INFO DEAL gives you two cards and the dealer two, one of them face down (??).",
    "INFO HIT takes one more card; STAND ends your turn. At exactly 21 you stand;"
    " over 21 you lose at once.",
    "INFO Then the dealer turns the hidden card over and draws while under 17"
    " (and stands on every 17).",
    "INFO Closer to 21 wins; the same total is a push. SCORE shows wins, losses"
    " and pushes; QUIT leaves.",
]
MAX_LINE = 512

# telnet's bytes (RFC 854)
IAC, SB, SE, IP = 255, 250, 240, 244
WILL, WONT, DO, DONT = 251, 252, 253, 254
TIMING_MARK = 6

RANKS = ["A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"]
SUITS = ["C", "D", "H", "S"]


def value(cards):
    """The best total: aces count 11 unless that goes over 21."""
    total, aces = 0, 0
    for card in cards:
        rank = card[:-1]
        if rank == "A":
            total, aces = total + 11, aces + 1
        elif rank in ("J", "Q", "K"):
            total += 10
        else:
            total += int(rank)
    while total > 21 and aces:
        total, aces = total - 10, aces - 1
    return total


def hand_line(who, cards):
    return f"HAND {who} {value(cards)} {' '.join(cards)}"


class Game:
    """One connection's Blackjack: command in, lines out."""

    def __init__(self):
        self.wins = self.losses = self.pushes = 0
        self.in_play = False

    def command(self, line):
        """The lines that answer ``line``; None for QUIT."""
        words = line.split()
        if not words:
            return []  # an empty line gets no answer
        word = words[0].upper()
        if word == "QUIT":
            return None
        if word == "HELP":
            return list(HELP)
        if word == "SCORE":
            return [self.score()]
        if word == "DEAL":
            if self.in_play:
                return ["ERROR NOT-NOW a round is in play; HIT or STAND first"]
            return self.deal()
        if word in ("HIT", "STAND"):
            if not self.in_play:
                return ["ERROR NOT-NOW no round in play; DEAL to start one"]
            return self.hit() if word == "HIT" else self.finish()
        return [f"ERROR UNKNOWN-COMMAND {word} is not a command; try HELP"]

    def score(self):
        return f"SCORE {self.wins} {self.losses} {self.pushes}"

    def deal(self):
        self.deck = [rank + suit for rank in RANKS for suit in SUITS]
        random.shuffle(self.deck)
        p1, d1, p2, d2 = (self.deck.pop() for _ in range(4))
        self.player, self.dealer = [p1, p2], [d1, d2]
        self.in_play = True
        lines = [f"HAND DEALER ? {d1} ??", hand_line("PLAYER", self.player)]
        if value(self.player) == 21:
            return lines + self.finish()  # 21 stands by itself
        return lines + ["TURN HIT STAND"]

    def hit(self):
        self.player.append(self.deck.pop())
        lines = [hand_line("PLAYER", self.player)]
        if value(self.player) >= 21:
            return lines + self.finish()
        return lines + ["TURN HIT STAND"]

    def finish(self):
        """Reveal the hole card, let the dealer draw, settle the round."""
        self.in_play = False
        lines = [hand_line("DEALER", self.dealer)]
        player = value(self.player)
        if player <= 21:
            while value(self.dealer) < 17:
                self.dealer.append(self.deck.pop())
                lines.append(hand_line("DEALER", self.dealer))
        dealer = value(self.dealer)
        if player > 21:
            outcome, reason = "LOSE", "BUST"
        elif dealer > 21:
            outcome, reason = "WIN", "DEALER-BUST"
        elif player > dealer:
            outcome, reason = "WIN", "HIGHER"
        elif player < dealer:
            outcome, reason = "LOSE", "LOWER"
        else:
            outcome, reason = "PUSH", "EQUAL"
        if outcome == "WIN":
            self.wins += 1
        elif outcome == "LOSE":
            self.losses += 1
        else:
            self.pushes += 1
        return lines + [f"RESULT {outcome} {player} {dealer} {reason}", self.score()]


class LineReader:
    """Bytes in, one at a time; lines, errors and timing marks out.

    Yields ("line", text), ("error", line to send) or ("mark", None).
    """

    def __init__(self):
        self.line = bytearray()
        self.too_long = False  # throwing bytes away up to the next LF
        self.state = "data"
        self.verb = 0

    def feed(self, data):
        events = []
        for byte in data:
            if self.state == "iac":
                self.state = "data"
                if byte == IAC:  # IAC IAC: a data byte 255
                    self.add(byte, events)
                elif byte in (WILL, WONT, DO, DONT):
                    self.state, self.verb = "option", byte
                elif byte == SB:
                    self.state = "sub"
                elif byte == IP:  # Ctrl-C: forget the line typed so far
                    self.line.clear()
                    self.too_long = False
            elif self.state == "option":
                self.state = "data"
                if self.verb == DO and byte == TIMING_MARK:
                    events.append(("mark", None))
            elif self.state == "sub":
                if byte == IAC:
                    self.state = "sub-iac"
            elif self.state == "sub-iac":
                self.state = "data" if byte == SE else "sub"
            elif byte == IAC:
                self.state = "iac"
            elif byte == ord("\n"):
                self.end(events)
            else:
                self.add(byte, events)
        return events

    def add(self, byte, events):
        if self.too_long:
            return
        self.line.append(byte)
        # one byte over the limit may be the CR of a CRLF
        if len(self.line) > MAX_LINE + 1 or (
            len(self.line) == MAX_LINE + 1 and byte != ord("\r")
        ):
            self.line.clear()
            self.too_long = True
            events.append(
                (
                    "error",
                    "ERROR LINE-TOO-LONG lines are limited to 512 bytes; line ignored",
                )
            )

    def end(self, events):
        if self.too_long:
            self.too_long = False
            return
        raw = bytes(self.line)
        self.line.clear()
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if any(not (32 <= b < 127 or b == 9) for b in raw):
            events.append(
                (
                    "error",
                    "ERROR BAD-ENCODING lines must be printable ASCII; line ignored",
                )
            )
        else:
            events.append(("line", raw.decode("ascii")))

    def finish(self):
        """The client closed: a last line without its LF still counts."""
        events = []
        if self.line and not self.too_long:
            self.end(events)
        return events


def send_lines(c, lines):
    c.sendall("".join(line + "\r\n" for line in lines).encode("ascii"))


def handle_client(c):
    game, reader = Game(), LineReader()
    with c:
        try:
            send_lines(c, [WELCOME])
            while True:
                data = c.recv(4096)
                events = reader.feed(data) if data else reader.finish()
                for kind, text in events:
                    if kind == "mark":
                        c.sendall(bytes([IAC, WILL, TIMING_MARK]))
                    elif kind == "error":
                        send_lines(c, [text])
                    else:
                        answer = game.command(text)
                        if answer is None:
                            send_lines(c, ["BYE see you next time"])
                            close_gently(c)
                            return
                        send_lines(c, answer)
                if not data:
                    return
        except OSError:
            return  # the client reset the connection: nothing to tell


def close_gently(c):
    """Send FIN, then wait a little for the client's, so that unread input
    cannot turn the close into a reset that loses BYE."""
    c.shutdown(1)  # socket.SHUT_WR
    c.settimeout(0.5)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass


def blackjack_server(s):
    while True:
        c, a = s.accept()
        threading.Thread(target=handle_client, args=(c,), daemon=True).start()
