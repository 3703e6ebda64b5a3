"""blackjack, version 1: the greeting, the rules, the common rules of line services.

Every line the server sends goes through labkit's protocol checker
(:mod:`labkit.blackjack.check`), in every case: the rules are checked
whatever a case is about. The rules' own cases share one pool of rounds,
played once per run with three strategies, enough for bugs that show only
in some rounds (an ace, a card dealt twice), then until a dealer has shown
a soft 17, the rarest case the rules name. A broken rule is
filed under the case that names it; after one, the pool goes on with a new
connection, so one bug does not hide another.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..blackjack.check import Checker
from ..blackjack.game import BLACKJACK, Hand
from ..errors import ProtocolError
from .runner import SHOWN, Case, CaseFailed, Conn, Probe, Silent

GREETING = "WELCOME labkit-blackjack/1 <text>, as the first line"
PLAYERS = 5
IAC, IP, DO, WILL, WONT, SB, SE, NOP = 255, 244, 253, 251, 252, 250, 240, 241
TIMING_MARK = 6
MAX_RULE_BREAKS = 30  # new connections the pool opens after broken rules
PAUSE = 0.1  # between the pieces of a line, so they arrive as separate reads


class RuleBroken(CaseFailed):
    """The protocol checker rejected a server line."""

    def __init__(self, error: ProtocolError) -> None:
        message = str(error)
        if error.line is not None:
            message = message.removesuffix(f": {error.line!r}")
        super().__init__(f"the protocol's rules kept, but {message}")
        self.message = message


class _RulesAside(Checker):
    """The protocol checker, minus the rules of the game (they have their cases).

    Cases about framing, commands and errors deal rounds too; a dealer or
    ace bug there is the rules' cases' business, so it must not fail them.
    The order of lines, and every answer that is not a round's, stays
    checked.
    """

    def _fail(self, message: str, line: str) -> None:
        if _rule(message) == "round-lines":
            super()._fail(message, line)


class Player:
    """One connection, every line checked; ``exchange`` sends and reads answers.

    A server that sends no TURN line fails the turn-line case; every other
    case goes on as if the TURN had come (``supplied_turn``), waiting for it
    only once per run, so one missing line does not fail every case.
    """

    def __init__(
        self, probe: Probe, label: str | None = None, *, rules: bool = False
    ) -> None:
        self.probe = probe
        self.conn: Conn = probe.connect(label)
        self.checker = Checker() if rules else _RulesAside()
        self.last: object = None  # the last line's event
        self.hand: Hand | None = None  # the player's hand as last shown
        self.dealer_soft_17 = False  # a dealer who must stand showed a soft 17
        self.supplied_turn = False
        self._read(GREETING)
        if not self.checker.greeted:
            raise CaseFailed(GREETING, "the server turned this connection away")

    @property
    def turn(self) -> bool:
        return self.checker.players_turn

    @property
    def total(self) -> int:
        return self.hand.total if self.hand and self.hand.total else 0

    def _read(self, expected: str) -> None:
        line = self.conn.read_line(expected)
        try:
            event = self.checker.received(line)
        except ProtocolError as error:
            raise RuleBroken(error) from None
        self.last = event
        if isinstance(event, Hand) and event.who == "PLAYER":
            self.hand = event
        if isinstance(event, Hand) and event.who == "DEALER" and _soft_17(event):
            if self.total <= BLACKJACK:  # so the dealer's rule applies
                self.dealer_soft_17 = True

    def send(self, text: str, end: bytes = b"\r\n") -> None:
        """Send the line ``text``."""
        self.conn.send_line(text, end)
        self.checker.sent(text)

    def send_raw(self, raw: bytes, as_text: str, lines: tuple[str, ...]) -> None:
        """Send ``raw`` (shown as ``as_text``): the server should read ``lines``."""
        self.conn.send(raw, as_text=as_text)
        for line in lines:
            self.checker.sent(line)

    def read_answers(self, command: str) -> None:
        """Read until every command sent has had its whole answer."""
        while self.checker.awaiting_reply:
            last = self.last
            due = (
                isinstance(last, Hand)
                and last.who == "PLAYER"
                and last.total is not None
                and last.total < BLACKJACK
            )
            if due and self.probe.shared.get("missing-turn"):
                self._supply_turn()
                continue
            try:
                self._read("TURN HIT STAND" if due else f"the answer to {command}")
            except Silent:
                if not due:
                    raise
                self.probe.shared["missing-turn"] = True

    def _supply_turn(self) -> None:
        self.conn._note_received("(no TURN HIT STAND line)")
        self.checker.received("TURN HIT STAND")
        self.last = None
        self.supplied_turn = True

    def exchange(
        self, *commands: str, end: bytes = b"\r\n", apart: bool = False
    ) -> None:
        """Send ``commands`` (``apart``: a pause between them), read the answers."""
        for number, command in enumerate(commands):
            if apart and number:
                time.sleep(PAUSE)  # so each line reaches the server's recv alone
            self.send(command, end=end)
        self.read_answers(commands[-1])

    def help(self, word: str = "HELP", score: str = "SCORE") -> None:
        """HELP has no end marker: read an INFO line, then SCORE ends the rest."""
        self.send(word)
        self._read(f"INFO lines for {word}")
        self.send(score)
        self.read_answers(f"{score} after {word}")

    def play_round(self, hits) -> None:
        self.exchange("DEAL")
        while self.turn:
            self.exchange("HIT" if hits(self.total) else "STAND")

    def deal_until_turn(self, tries: int = 10) -> None:
        """DEAL until a round waits for the player's move (21 ends at once)."""
        for _ in range(tries):
            self.exchange("DEAL")
            if self.turn:
                return
        raise CaseFailed("a round that waits for HIT or STAND")


# -- the pool of rounds, shared by the rules' cases ----------------------------

RULES = {  # case: the words of the checker's messages that name its rule
    "totals": ("the total is not the best value",),
    "one-deck": ("appears twice",),
    "hole-card": ("hole card",),
    "dealer-rule": ("the dealer drew", "the dealer stopped", "the dealer draws one"),
    "result-and-score": ("RESULT does not agree", "SCORE should be"),
    "turn-line": ("expected TURN",),
}


def _soft_17(hand: Hand) -> bool:
    return hand.total == 17 and sum(card.points for card in hand.cards) < 17


def _rule(message: str) -> str:
    for case, words in RULES.items():
        if any(word in message for word in words):
            return case
    return "round-lines"


@dataclass
class Evidence:
    sent: list[str]
    expected: str
    received: list[str]
    hint: str | None = None

    def fail(self, probe: Probe):
        probe.sent[:], probe.received[:] = self.sent, self.received
        raise CaseFailed(self.expected, self.hint)


@dataclass
class Rounds:
    played: int = 0
    soft_17: bool = False  # a dealer's soft 17 was shown
    broken: dict[str, Evidence] = field(default_factory=dict)
    stopped: Evidence | None = None  # the rounds could not go on


def _evidence(probe: Probe, failure: CaseFailed) -> Evidence:
    return Evidence(
        probe.sent[-SHOWN:], failure.expected, probe.received[-SHOWN:], failure.hint
    )


def rounds(probe: Probe) -> Rounds:
    pool = probe.shared.get("rounds")
    if pool is None:
        pool = probe.shared["rounds"] = Rounds()
        try:
            _play(probe, pool)
        except CaseFailed as failure:
            pool.stopped = _evidence(probe, failure)
    return pool


def _rounds(count: int):
    return lambda pool, played: played < count


def _until_soft_17(pool: Rounds, played: int) -> bool:
    """A dealer shows a soft 17 in about 1 round in 60 when the player stands:
    the pool plays on until one was shown, so a dealer that hits it cannot
    hide in a lucky run."""
    seen = pool.soft_17 or "dealer-rule" in pool.broken
    return not seen and played < 1000


STRATEGIES = (  # name, hits at this total, plays one more round
    ("hit below 17", lambda total: total < 17, _rounds(100)),
    ("always stand", lambda total: False, _rounds(70)),
    ("always hit", lambda total: True, _rounds(70)),
    ("stand until a soft 17", lambda total: False, _until_soft_17),
)


def _play(probe: Probe, pool: Rounds) -> None:
    breaks = 0
    for name, hits, more in STRATEGIES:
        player, played = None, 0
        while more(pool, played):
            if player is None:
                player = Player(probe, name, rules=True)
            probe.sent.clear()
            probe.received.clear()
            try:
                player.play_round(hits)
            except RuleBroken as failure:
                evidence = _evidence(probe, failure)
                pool.broken.setdefault(_rule(failure.message), evidence)
                breaks += 1
                if breaks >= MAX_RULE_BREAKS:
                    return
                player.conn.close()
                player = None  # the checker cannot follow a broken round
                continue
            played += 1
            pool.played += 1
            pool.soft_17 = pool.soft_17 or player.dealer_soft_17
            if player.supplied_turn:
                pool.broken.setdefault(
                    "turn-line",
                    _evidence(probe, CaseFailed("TURN HIT STAND after HAND PLAYER")),
                )
        if player is not None:
            player.conn.close()  # one connection at a time, as an iterative server can


def rule(case: str):
    def run(probe: Probe) -> None:
        pool = rounds(probe)
        if case in pool.broken:
            pool.broken[case].fail(probe)
        if pool.stopped is not None:
            pool.stopped.fail(probe)

    return run


# -- the other cases -------------------------------------------------------------


def greeting(probe: Probe) -> None:
    Player(probe)


def crlf(probe: Probe) -> None:
    player = Player(probe)
    player.exchange("SCORE")
    player.help()
    player.play_round(lambda total: total < 12)
    endings = player.conn.endings
    if any(ending != b"\r\n" for ending in endings):
        bare = sum(ending != b"\r\n" for ending in endings)
        raise CaseFailed(
            f"every line ended with CRLF (\\r\\n); {bare} of {len(endings)} "
            "ended with LF (\\n) alone"
        )


def client_line_endings(probe: Probe) -> None:
    player = Player(probe)
    player.exchange("SCORE", end=b"\n")
    player.exchange("SCORE", end=b"\r\n")
    player.exchange("DEAL", end=b"\n")


def split_line(probe: Probe) -> None:
    player = Player(probe)
    player.send_raw(b"SC", "SC  (the first part of SCORE)", ())
    time.sleep(PAUSE)  # so the pieces reach the server's recv separately
    player.send_raw(b"ORE\r\n", "ORE  (the rest of it)", ("SCORE",))
    player.read_answers("SCORE sent in two pieces")
    for piece in (b"D", b"E", b"A", b"L"):
        player.send_raw(piece, piece.decode(), ())
        time.sleep(PAUSE / 4)
    player.send_raw(b"\r\n", "\\r\\n  (DEAL, one byte at a time)", ("DEAL",))
    player.read_answers("DEAL sent one byte at a time")


def lines_together(probe: Probe) -> None:
    player = Player(probe)
    player.send_raw(
        b"SCORE\r\nHELP\r\nSCORE\r\n",
        "SCORE, HELP and SCORE in one send",
        ("SCORE", "HELP", "SCORE"),
    )
    player.read_answers("three lines sent at once")


def help_lines(probe: Probe) -> None:
    Player(probe).help()


def wrong_time(probe: Probe) -> None:
    player = Player(probe)
    player.exchange("HIT")
    player.exchange("STAND")
    player.deal_until_turn()
    player.exchange("DEAL")
    player.exchange("STAND")


def case_insensitive(probe: Probe) -> None:
    player = Player(probe)
    player.exchange("deal")
    moves = iter(("hit", "Hit", "hIT"))
    while player.turn:
        player.exchange(next(moves, "sTaNd") if player.total < 15 else "Stand")
    player.exchange("score")
    player.help("Help", "Score")


def empty_lines(probe: Probe) -> None:
    player = Player(probe)
    player.exchange("", "SCORE", apart=True)
    player.exchange("", "", "SCORE", apart=True)
    player.deal_until_turn()
    player.exchange("", "STAND", apart=True)


def quit_(probe: Probe) -> None:
    player = Player(probe)
    player.deal_until_turn()
    player.exchange("QUIT")
    player.conn.expect_close("the server to close the connection after BYE")


def several_players(probe: Probe) -> None:
    players = []
    for number in range(1, PLAYERS + 1):
        try:
            players.append(Player(probe, str(number)))
        except Silent:
            raise CaseFailed(
                f"WELCOME on connection {number} while connection 1 stays open"
            ) from None
    for command in ("DEAL", "STAND", "SCORE"):
        acting = [p for p in players if command != "STAND" or p.turn]
        for player in acting:
            player.send(command)
        for player in acting:
            player.read_answers(f"{command} while {PLAYERS - 1} other players play")


def unknown_command(probe: Probe) -> None:
    player = Player(probe)
    player.exchange("FOO")
    player.exchange("DEALS")
    player.deal_until_turn()
    player.exchange("JUMP")
    player.exchange("STAND")


def line_limit(probe: Probe) -> None:
    player = Player(probe)
    longest = "SCORE".ljust(512)
    player.send_raw(
        longest.encode() + b"\r\n", "SCORE and 507 spaces (512 bytes)", (longest,)
    )
    player.read_answers("SCORE: 512 bytes is not too long")
    player.send_raw(b"X" * 513 + b"\r\n", "X x 513", ("X" * 513,))
    player.read_answers("one ERROR LINE-TOO-LONG for 513 bytes")
    flood = b"Y" * 100_000
    player.send_raw(flood, "Y x 100,000", ())
    player.send_raw(b"\r\n", "\\r\\n  (the end of that line)", (flood.decode(),))
    player.read_answers("one ERROR LINE-TOO-LONG for 100,000 bytes")
    player.exchange("SCORE")


def non_ascii(probe: Probe) -> None:
    player = Player(probe)
    for text, raw in (
        ("DEAL é  (in UTF-8)", "DEAL é".encode()),
        ("SCORE\\x00", b"SCORE\x00"),
        ("\\x80\\xfe\\xc3", b"\x80\xfe\xc3"),
    ):
        player.send_raw(raw + b"\r\n", text, (raw.decode("latin-1"),))
        player.read_answers(text)
    player.exchange("SCORE")


def telnet_commands(probe: Probe) -> None:
    player = Player(probe)
    negotiation = bytes([IAC, WILL, 24, IAC, DO, 1]) + b"SC"
    negotiation += bytes([IAC, WONT, 3, IAC, NOP]) + b"ORE\r\n"
    subnegotiation = bytes([IAC, SB, 24, 0]) + b"xterm" + bytes([IAC, SE])
    for text, raw in (
        ("IAC WILL 24, IAC DO 1, SC, IAC WONT 3, IAC NOP, ORE", negotiation),
        ("IAC SB 24 0 xterm IAC SE, SCORE", subnegotiation + b"SCORE\r\n"),
    ):
        player.send_raw(raw, text, ("SCORE",))
        player.read_answers("SCORE, the telnet commands removed")


def telnet_ctrl_c(probe: Probe) -> None:
    player = Player(probe)
    player.deal_until_turn()
    player.conn.send(
        b"HI" + bytes([IAC, IP, IAC, DO, TIMING_MARK]),
        as_text="HI, then Ctrl-C: IAC IP, IAC DO TIMING-MARK",
    )
    answer = player.conn.read_bytes(3, "IAC WILL TIMING-MARK (255 251 6)")
    if answer != bytes([IAC, WILL, TIMING_MARK]):
        raise CaseFailed("IAC WILL TIMING-MARK (255 251 6)")
    player.exchange("STAND")  # "HI" was dropped and the round stayed in play


def still_serving(probe: Probe) -> None:
    Player(probe).exchange("SCORE")


def _case(name, group, title, hint, run) -> Case:
    return Case(name, group, title, hint, run)


RECV_PIECES = (
    "recv can return part of a line: keep reading into a buffer until it "
    "holds a whole line (up to b'\\n'), and keep what comes after for the next"
)
CRASH = (
    " If the connection closed instead, the handler crashed on this input: "
    "a bad line deserves an ERROR line, never a dead thread."
)

CASES = [
    _case(
        "greeting",
        "the greeting",
        "WELCOME labkit-blackjack/1 is the first line, sent without being asked",
        "send the WELCOME line as soon as accept() returns, before reading",
        greeting,
    ),
    _case(
        "crlf",
        "framing",
        "every line the server sends ends with CRLF",
        "end every line with '\\r\\n', as telnet expects: send((line + "
        "'\\r\\n').encode('ascii'))",
        crlf,
    ),
    _case(
        "client-line-endings",
        "framing",
        "lines ended with LF alone are commands too",
        "split on b'\\n' and drop one b'\\r' before it: clients may send "
        "'\\n' (nc) or '\\r\\n' (telnet)",
        client_line_endings,
    ),
    _case(
        "split-line",
        "framing",
        "a line that arrives in pieces is one command",
        RECV_PIECES,
        split_line,
    ),
    _case(
        "lines-together",
        "framing",
        "several lines in one recv are each answered, in order",
        "recv can return several lines at once: answer every whole line in "
        "the buffer, in order, and keep the rest",
        lines_together,
    ),
    _case(
        "round-lines",
        "rules of the game",
        "each command gets the lines the protocol promises, in order, in 240+ rounds",
        "follow 'A round, line by line' in docs/protocol.md: DEAL gives "
        "HAND DEALER ? <up> ??, HAND PLAYER ..., TURN HIT STAND",
        rule("round-lines"),
    ),
    _case(
        "turn-line",
        "rules of the game",
        "TURN HIT STAND follows each player hand below 21",
        "after every HAND PLAYER below 21 send TURN HIT STAND: a client "
        "waits for it before it moves",
        rule("turn-line"),
    ),
    _case(
        "totals",
        "rules of the game",
        "every total is the best value of its cards (aces 11 or 1)",
        "an ace counts 11 unless that takes the hand over 21, then 1: count "
        "aces as 1, and add 10 once if that stays at 21 or under",
        rule("totals"),
    ),
    _case(
        "one-deck",
        "rules of the game",
        "no card appears twice in a round",
        "deal from a shuffled deck of 52 (random.shuffle, then pop), not "
        "random.choice for each card",
        rule("one-deck"),
    ),
    _case(
        "hole-card",
        "rules of the game",
        "the hole card stays hidden (??) until the reveal",
        "send the dealer's second card as ?? on the deal, and show it only "
        "once the player's turn is over",
        rule("hole-card"),
    ),
    _case(
        "dealer-rule",
        "rules of the game",
        "the dealer draws below 17, stands on every 17 (soft too), and not "
        "after a player's bust",
        "while dealer_total < 17: draw; with the best total, so a soft 17 "
        "(an ace as 11) stands too; no drawing when the player went over 21",
        rule("dealer-rule"),
    ),
    _case(
        "result-and-score",
        "rules of the game",
        "RESULT agrees with the totals; SCORE counts every RESULT",
        "settle from the two totals as the table of outcomes says, and count "
        "each result once in the connection's tally",
        rule("result-and-score"),
    ),
    _case(
        "help",
        "commands",
        "HELP is answered with INFO lines",
        "answer HELP with one or more lines beginning INFO",
        help_lines,
    ),
    _case(
        "wrong-time",
        "errors",
        "HIT or STAND with no round, DEAL during one: ERROR NOT-NOW, the round goes on",
        "a command at the wrong time gets ERROR NOT-NOW <text> and changes "
        "nothing: keep the round's state per connection and check it first",
        wrong_time,
    ),
    _case(
        "case-insensitive",
        "commands",
        "deal, Hit and sTaNd are commands as DEAL, HIT and STAND are",
        "compare line.split()[0].upper(): commands are case-insensitive",
        case_insensitive,
    ),
    _case(
        "empty-lines",
        "commands",
        "an empty line gets no answer",
        "skip a line with no words before looking at its first word "
        "(line.split() is [])",
        empty_lines,
    ),
    _case(
        "quit",
        "the end of a session",
        "QUIT, even during a round: BYE, then the server closes",
        "answer QUIT with BYE <text>, then close the connection",
        quit_,
    ),
    _case(
        "several-players",
        "concurrency",
        f"{PLAYERS} players at once, their commands interleaved, each get "
        "their own game",
        "the server serves one player at a time: while it loops on one "
        "connection the others wait in the listen backlog. Handle each "
        "accepted connection in its own thread: "
        "threading.Thread(target=handle, args=(conn,)).start()",
        several_players,
    ),
    _case(
        "unknown-command",
        "errors",
        "an unknown command gets ERROR UNKNOWN-COMMAND, the round goes on",
        "answer a command you do not know with ERROR UNKNOWN-COMMAND <text> "
        "and keep the connection and the round",
        unknown_command,
    ),
    _case(
        "line-limit",
        "errors",
        "a line over 512 bytes gets one ERROR LINE-TOO-LONG; 512 is fine",
        "count the bytes of the line being read: past 512, answer ERROR "
        "LINE-TOO-LONG once and drop bytes up to the next b'\\n', never "
        "holding them",
        line_limit,
    ),
    _case(
        "non-ascii",
        "errors",
        "a line with bytes outside printable ASCII gets ERROR BAD-ENCODING",
        "check the bytes before decoding: outside 0x20-0x7E (tab aside) the "
        "answer is ERROR BAD-ENCODING <text>." + CRASH,
        non_ascii,
    ),
    _case(
        "telnet-commands",
        "telnet",
        "telnet's commands (IAC ...) are removed from lines",
        "drop IAC and its command byte, three bytes after WILL/WONT/DO/DONT, "
        "and IAC SB ... IAC SE, before splitting lines." + CRASH,
        telnet_commands,
    ),
    _case(
        "telnet-ctrl-c",
        "telnet",
        "Ctrl-C in telnet: IAC IP drops the partial line, DO TIMING-MARK gets "
        "IAC WILL TIMING-MARK",
        "on IAC IP forget the line read so far; answer IAC DO 6 with the "
        "bytes 255 251 6, or telnet shows nothing more." + CRASH,
        telnet_ctrl_c,
    ),
    _case(
        "still-serving",
        "robustness",
        "after all of the above, a new player is still served",
        "nothing one client sends may stop the server: catch errors per "
        "connection, and keep the accept loop running",
        still_serving,
    ),
]
