"""blackjack-client: labkit plays the server, and judges a learner's Blackjack client.

The learner writes ``play(host, port, rounds)``: connect, read the
greeting, play ``rounds`` rounds (HIT or STAND by a strategy), QUIT, read
BYE, close. ``labkit.check("blackjack-client", play)`` runs it against a
judge: a listening socket on 127.0.0.1, port 0, that speaks blackjack
version 1 from labkit's sans-IO game and records everything the client
does. Decisions, as a strict but fair examiner:

- **Sessions, one per framing.** ``play`` is called once per framing, each
  time against a fresh listener: *line by line* (each line its own send, a
  short pause between the lines of a reply: the framing a first client
  survives, though on a busy machine two lines may still come together),
  *in pieces* (every line cut in two or three sends, with pauses,
  one cut inside the CRLF) and *all at once* (a whole reply in one send).
  Line by line plays :data:`ROUNDS` rounds; the other two its first
  :data:`FRAMED_ROUNDS`.
- **Seeded decks.** Round i's deck depends only on (:data:`SEED`, i), in
  every session: the framed sessions deal the same cards as the first
  rounds line by line, and labkit's basic strategy plays the same decks.
- **Each case judges its own session.** Connecting, commands, turns, the
  number of rounds, QUIT and returning are judged line by line. A framing
  case fails when a round went wrong in its framing that went right line
  by line (same cards): a bug that shows whatever the framing is the other
  cases' business, so one bug makes one row red.
- **Errors do not end a session** (the protocol says so): the judge answers
  them as a server does, and gives up after :data:`MAX_ERRORS` of them.
- **Everything is bounded.** :data:`STEP` seconds for each line the client
  owes, a budget per session, a line at most 512 bytes. When the connection
  is over, ``play`` has :data:`RETURN_WAIT` seconds to return; a thread still
  running then gets an exception raised in it (which ends a loop in pure
  Python); one stuck in a blocking call elsewhere is left running, a daemon
  thread, and the report says so.
- **The win rate is not graded.** It is a note above the cases: how many of
  the line-by-line rounds the client's strategy won, and how many basic
  strategy wins on the same decks.
"""

from __future__ import annotations

import ctypes
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..blackjack.game import Card, Result, Round, Score, hand_total, shuffled_deck
from ..blackjack.protocol import Info, format_event
from ..services.blackjack import HELP
from .report import CaseResult, CheckReport
from .runner import SHOWN, Case, CaseFailed

SEED = 5
ROUNDS = 100  # line by line: enough for a win rate
FRAMED_ROUNDS = 10  # in pieces, and all at once
STEP = 2.0  # seconds the client may take for a line it owes
CONNECT = 3.0  # seconds for play to connect
RETURN_WAIT = 2.0  # seconds for play to return once the connection is over
BUDGET = {"line by line": 10.0, "in pieces": 6.0, "all at once": 5.0}  # seconds
# Between the lines of a reply, line by line: long enough that a client
# reading one line per recv usually gets them one at a time (on a busy
# machine two may still come together), longer in the first FRAMED_ROUNDS
# rounds, which the framing cases compare against.
LINE_PAUSE = 0.005
REFERENCE_PAUSE = 0.02
PIECE_PAUSE = 0.01  # between the pieces of a line
MAX_LINE = 512
MAX_ERRORS = 100  # a client flooding with bad lines is cut off
WELCOME = "WELCOME labkit-blackjack/1 type HELP for commands"
BYE = "BYE see you next time"
FRAMINGS = ("line by line", "in pieces", "all at once")


def deck(index: int) -> list[Card]:
    """Round ``index``'s deck (1-based): the same in every session and run."""
    return shuffled_deck(random.Random(f"labkit-blackjack-client/{SEED}/{index}"))


# -- basic strategy -------------------------------------------------------------


def basic_strategy(cards: list[Card], upcard: Card) -> str:
    """HIT or STAND, by the player's total and the dealer's upcard.

    The textbook chart for a dealer who stands on soft 17, hit or stand
    only (version 1 has no double or split): soft totals (an ace counted
    11) hit to 17, and 18 against 9, 10 or an ace; hard 12 stands against
    4 to 6, 13 to 16 against 2 to 6, 17 and more always.
    """
    total = hand_total(cards)
    up = 11 if upcard.rank == "A" else min(upcard.points, 10)
    soft = (
        any(c.rank == "A" for c in cards) and sum(c.points for c in cards) + 10 == total
    )
    if soft:
        return "HIT" if total <= 17 or (total == 18 and up >= 9) else "STAND"
    if total <= 11:
        return "HIT"
    if total == 12:
        return "STAND" if 4 <= up <= 6 else "HIT"
    if total <= 16:
        return "STAND" if up <= 6 else "HIT"
    return "STAND"


def basic_strategy_wins(rounds: int) -> int:
    """How many of rounds 1..``rounds`` basic strategy wins."""
    wins = 0
    for index in range(1, rounds + 1):
        game = Round(deck(index))
        game.deal()
        while game.players_turn:
            if basic_strategy(game.player, game.dealer[0]) == "HIT":
                game.hit()
            else:
                game.stand()
        wins += game.result is not None and game.result.outcome == "WIN"
    return wins


# -- one session: the judge's side of one call of play --------------------------


@dataclass
class Fault:
    kind: str  # the line-by-line case it fails
    expected: str
    at: int  # the transcript's length when it happened
    round: int  # the round dealt last when it happened (0: none yet)
    hint: str | None = None


@dataclass
class Session:
    framing: str
    rounds: int
    log: list[tuple[str, str]] = field(default_factory=list)  # ("S"|"C", text)
    faults: list[Fault] = field(default_factory=list)
    connected: bool = False
    commands: int = 0
    dealt: int = 0
    settled: int = 0
    wins: int = 0
    bad_rounds: set[int] = field(default_factory=set)  # rounds not played right
    quit: bool = False
    ended: str = ""  # how the connection ended, in words
    raised: str | None = None
    returned: bool = False
    left_running: bool = False

    def fault(self, kind: str, expected: str, hint: str | None = None) -> None:
        self.faults.append(Fault(kind, expected, len(self.log), self.dealt, hint))

    def round_wrong(self, index: int | None = None) -> None:
        index = self.dealt if index is None else index
        if index:
            self.bad_rounds.add(index)


class _Ended(Exception):
    """The connection is over (closed, reset, silent, flooding or out of time)."""


class _Gone(BaseException):
    """Raised in a play thread that did not return in time, to end a busy loop."""


class _Player:
    """``play(host, port, rounds)`` in a daemon thread, its outcome recorded."""

    def __init__(self, play: Callable, address: tuple[str, int], rounds: int) -> None:
        self.done = threading.Event()
        self.error: str | None = None  # "Type: message" of what play raised
        self.stopped = False
        self.thread = threading.Thread(
            target=self._run,
            args=(play, *address, rounds),
            name="labkit-check-client",
            daemon=True,
        )
        self.thread.start()

    def _run(self, play, host, port, rounds) -> None:
        try:
            play(host, port, rounds)
        except _Gone:
            self.stopped = True
        except BaseException as exc:  # noqa: BLE001 - the learner's, for the report
            # Words only: the exception's traceback would keep play's frames,
            # and the sockets in them, alive.
            self.error = f"{type(exc).__name__}: {exc}".removesuffix(": ")
        finally:
            self.done.set()

    def stop(self) -> bool:
        """Raise _Gone in the thread; True if it then ended."""
        ident = self.thread.ident
        if ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(_Gone)
            )
        return self.done.wait(1.0)


class _Judge:
    """The server side of one session: lines out in a framing, commands in."""

    def __init__(self, session: Session, conn: socket.socket, deadline: float):
        self.s = session
        self.conn = conn
        self.deadline = deadline
        self.buffer = bytearray()
        self.round: Round | None = None
        self.score = Score()
        self.errors = 0
        self.cuts = random.Random(f"labkit-blackjack-client/cuts/{SEED}")
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- sending, in the session's framing ----------------------------------

    def send(self, lines: list[str]) -> None:
        framing = self.s.framing
        try:
            if framing == "all at once":
                self.conn.settimeout(STEP)
                self.conn.sendall("".join(f"{line}\r\n" for line in lines).encode())
                self.s.log += [("S", line) for line in lines]
                return
            for number, line in enumerate(lines):
                if number:
                    time.sleep(self._pause())
                data = f"{line}\r\n".encode()
                pieces = [data] if framing == "line by line" else self._pieces(data)
                for piece_number, piece in enumerate(pieces):
                    if piece_number:
                        time.sleep(PIECE_PAUSE)
                    self.conn.settimeout(STEP)
                    self.conn.sendall(piece)
                note = f"   (sent in {len(pieces)} pieces)" if len(pieces) > 1 else ""
                self.s.log.append(("S", line + note))
        except TimeoutError:
            self._end("the client stopped reading", "returns")
        except OSError:
            self._end("the client closed the connection", None)

    def _pause(self) -> float:
        if self.s.framing != "line by line":
            return PIECE_PAUSE
        return REFERENCE_PAUSE if self.s.dealt <= FRAMED_ROUNDS else LINE_PAUSE

    def _pieces(self, data: bytes) -> list[bytes]:
        """Two or three pieces: one cut within the first word's reach, often
        one between CR and LF, so a line is never whole in one recv."""
        first = self.cuts.randint(1, min(6, len(data) - 2))
        cuts = [first]
        if self.cuts.random() < 0.5:
            cuts.append(len(data) - 1)  # between CR and LF
        elif len(data) - 2 > first + 1:
            cuts.append(self.cuts.randint(first + 1, len(data) - 2))
        bounds = [0, *cuts, len(data)]
        return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if a < b]

    # -- reading the client's lines -----------------------------------------

    def _end(self, how: str, kind: str | None, expected: str = "") -> None:
        self.s.ended = how
        self.s.log.append(("C", f"({how})"))
        if kind:
            self.s.fault(kind, expected or how)
        raise _Ended(how)

    def read_line(self) -> bytes:
        until = time.monotonic() + STEP
        while (end := self.buffer.find(b"\n")) < 0:
            if len(self.buffer) > MAX_LINE + 1:
                self.s.log.append(("C", f"{bytes(self.buffer[:40])!r}..."))
                self._end(
                    f"{len(self.buffer):,} bytes without a newline",
                    "commands",
                    f"lines of at most {MAX_LINE} bytes, each ended by \\n",
                )
            wait = min(until, self.deadline) - time.monotonic()
            if wait <= 0:
                self._silent()
            self.conn.settimeout(wait)
            try:
                data = self.conn.recv(4096)
            except TimeoutError:
                self._silent()
            except OSError:
                self._end("the client reset the connection", None)
            if not data:
                if self.buffer:
                    self.s.log.append(
                        ("C", repr(bytes(self.buffer)) + "  (no newline)")
                    )
                    self.s.fault("commands", "every command ended by \\n")
                self._end("the client closed the connection", None)
            self.buffer += data
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        return line.removesuffix(b"\r")

    def _silent(self) -> None:
        if time.monotonic() >= self.deadline:
            self._end(f"the session's {BUDGET[self.s.framing]:g} s were up", None)
        if self.buffer:
            self.s.log.append(("C", repr(bytes(self.buffer)) + "  (no newline yet)"))
            self.s.fault("commands", "every command ended by \\n")
        self._end(f"nothing from the client within {STEP:g} s", None)

    # -- the game -----------------------------------------------------------

    def error(self, code: str, text: str, kind: str, expected: str) -> None:
        self.s.fault(kind, expected)
        self.s.round_wrong()
        self.send([f"ERROR {code} {text}"])
        self.errors += 1
        if self.errors >= MAX_ERRORS:
            self._end(f"labkit stops after {MAX_ERRORS} errors", None)

    def serve(self) -> None:
        self.send([WELCOME])
        while True:
            raw = self.read_line()
            if any(not (32 <= b < 127 or b == 9) for b in raw):
                self.s.log.append(("C", repr(raw)))
                self.error(
                    "BAD-ENCODING",
                    "lines must be printable ASCII; line ignored",
                    "commands",
                    "printable ASCII commands",
                )
                continue
            text = raw.decode()
            self.s.log.append(("C", text))
            words = text.split()
            if not words:
                continue
            self.s.commands += 1
            command = words[0].upper()
            if command == "QUIT":
                self.quit()
                return
            if command == "HELP":
                self.send([format_event(Info(line)) for line in HELP])
            elif command == "SCORE":
                self.send([format_event(self.score)])
            elif command == "DEAL":
                self.deal()
            elif command in ("HIT", "STAND"):
                self.move(command)
            else:
                self.error(
                    "UNKNOWN-COMMAND",
                    f"{command} is not a command; try HELP",
                    "commands",
                    "a command of version 1: DEAL, HIT, STAND, SCORE, HELP or QUIT",
                )

    def deal(self) -> None:
        if self.round is not None and self.round.result is None:
            self.error(
                "NOT-NOW",
                "a round is in play; HIT or STAND first",
                "waits-for-turn",
                "HIT or STAND: the round in play is not over",
            )
            return
        if self.s.dealt >= self.s.rounds:
            self.s.fault(
                "plays-every-round",
                f"QUIT after round {self.s.rounds}, not another DEAL",
                "count the RESULT lines: one per round, `rounds` of them, then QUIT",
            )
        self.s.dealt += 1
        self.round = Round(deck(self.s.dealt))
        self.events(self.round.deal())

    def move(self, command: str) -> None:
        if self.round is None or not self.round.players_turn:
            self.error(
                "NOT-NOW",
                "no round in play; DEAL to start one",
                "waits-for-turn",
                f"{command} only after a TURN line; this round is over"
                if self.round is not None
                else f"DEAL before {command}",
            )
            return
        self.events(self.round.hit() if command == "HIT" else self.round.stand())

    def events(self, events: list) -> None:
        if events and isinstance(events[-1], Result):
            self.score = self.score.counting(events[-1])
            events = [*events, self.score]
            self.s.settled += 1
            self.s.wins += events[-2].outcome == "WIN"
        self.send([format_event(event) for event in events])

    def quit(self) -> None:
        self.s.quit = True
        self.send([BYE])
        until = time.monotonic() + STEP
        while True:
            wait = until - time.monotonic()
            if wait <= 0:
                self._end(
                    f"the client kept the connection open {STEP:g} s after BYE",
                    "quit",
                    "the client to close its socket once BYE came",
                )
            self.conn.settimeout(wait)
            try:
                data = self.conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                self._end(
                    "the client reset the connection",
                    "quit",
                    "a clean close after BYE (a reset means lines were left unread)",
                )
            if not data:
                self.s.ended = "the client closed after BYE"
                self.s.log.append(("C", "(the client closed the connection)"))
                return


def run_session(play: Callable, framing: str) -> Session:
    rounds = ROUNDS if framing == "line by line" else FRAMED_ROUNDS
    session = Session(framing, rounds)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        player = _Player(play, listener.getsockname()[:2], rounds)
        conn = _accept(listener, player)
        listener.close()
        if conn is None:
            session.ended = "play never connected"
            session.log.append(
                ("C", "(play ended without connecting)")
                if player.done.is_set()
                else ("C", f"(no connection within {CONNECT:g} s)")
            )
            session.fault("connects-and-greets", "a connection from play")
        else:
            session.connected = True
            judge = _Judge(session, conn, time.monotonic() + BUDGET[framing])
            try:
                judge.serve()
            except _Ended:
                pass
            finally:
                _close(conn)
        _wait_for(player, session)
    finally:
        listener.close()
    _judge_rounds(session)
    return session


def _accept(listener: socket.socket, player: _Player) -> socket.socket | None:
    until = time.monotonic() + CONNECT
    listener.settimeout(0.05)
    while time.monotonic() < until:
        try:
            conn, _ = listener.accept()
            return conn
        except TimeoutError:
            if player.done.is_set():
                # It may have connected just before returning.
                listener.settimeout(0)
                try:
                    return listener.accept()[0]
                except OSError:
                    return None
    return None


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


def _wait_for(player: _Player, session: Session) -> None:
    if player.done.wait(RETURN_WAIT):
        session.returned = player.error is None
        session.raised = player.error
        return
    session.left_running = not player.stop()
    session.raised = None


def _judge_rounds(session: Session) -> None:
    """Mark rounds not played right: an ERROR in them (done as it happened),
    not settled, or, but for the session's last, not followed by a command."""
    for index in range(1, session.rounds + 1):
        if index > session.settled:
            session.bad_rounds.add(index)
        elif index == session.settled and index < session.rounds:
            if session.dealt == index and not session.quit:
                session.bad_rounds.add(index)  # the client stopped after it


# -- the cases ------------------------------------------------------------------


@dataclass
class Sessions:
    """The sessions a check ran, by framing."""

    by_framing: dict[str, Session]

    @property
    def plain(self) -> Session:
        return self.by_framing["line by line"]


def _evidence(session: Session, at: int | None = None) -> tuple[list[str], list[str]]:
    log = session.log if at is None else session.log[:at]
    sent = [text for who, text in log if who == "S"][-SHOWN:]
    back = [text for who, text in log if who == "C"][-SHOWN:]
    return sent, back


class Failed(CaseFailed):
    def __init__(self, session: Session, expected: str, hint=None, at=None) -> None:
        super().__init__(expected, hint)
        self.sent, self.received = _evidence(session, at)


def _first(session: Session, kind: str) -> None:
    for fault in session.faults:
        if fault.kind == kind:
            where = f" (round {fault.round})" if fault.round else ""
            raise Failed(session, fault.expected + where, fault.hint, fault.at + 1)


def connects(sessions: Sessions) -> None:
    s = sessions.plain
    _first(s, "connects-and-greets")
    if s.connected and not s.commands:
        raise Failed(s, f"a first command within {STEP:g} s of WELCOME")


def commands(sessions: Sessions) -> None:
    _first(sessions.plain, "commands")


def waits_for_turn(sessions: Sessions) -> None:
    _first(sessions.plain, "waits-for-turn")


def plays_every_round(sessions: Sessions) -> None:
    s = sessions.plain
    _first(s, "plays-every-round")
    if s.settled < s.rounds:
        raise Failed(
            s,
            f"{s.rounds} rounds played to their RESULT, then QUIT; "
            f"{s.settled} were, then {s.ended}",
        )


def quit_(sessions: Sessions) -> None:
    s = sessions.plain
    _first(s, "quit")
    if not s.quit:
        raise Failed(s, f"QUIT after the last round; instead {s.ended}")


def returns(sessions: Sessions) -> None:
    s = sessions.plain
    if not s.returned:
        if s.raised:
            what = f"play raised {s.raised}"
        elif s.left_running:
            what = (
                f"play had not returned {RETURN_WAIT:g} s after the session "
                "ended, and could not be stopped: its thread is left running "
                "(a daemon thread; restart the kernel to end it)"
            )
        else:
            what = (
                f"play had not returned {RETURN_WAIT:g} s after the session "
                "ended; labkit stopped its thread"
            )
        s.log.append(("C", f"({what})"))
        raise Failed(s, f"play(host, port, {s.rounds}) to return, without an exception")


def _framed(framing: str) -> Callable[[Sessions], None]:
    def judge(sessions: Sessions) -> None:
        plain, framed = sessions.plain, sessions.by_framing[framing]
        for index in range(1, framed.rounds + 1):
            if index in framed.bad_rounds and index not in plain.bad_rounds:
                raise Failed(
                    framed,
                    f"round {index} played right, as it was when the same cards "
                    f"came line by line; here {framed.ended or 'an ERROR came back'}",
                )
        if framed.raised and not plain.raised:
            framed.log.append(("C", f"(play raised {framed.raised})"))
            raise Failed(framed, "play to return, as it did line by line")

    return judge


NEEDS = {
    "lines-in-pieces": ("line by line", "in pieces"),
    "lines-together": ("line by line", "all at once"),
}


def _case(name, group, title, hint, run) -> Case:
    return Case(name, group, title, hint, run)


CASES = [
    _case(
        "connects-and-greets",
        "sockets",
        "play connects to (host, port) and sends a command after WELCOME",
        "connect to the host and port play is given (socket.create_connection"
        "((host, port))), read the WELCOME line, then send DEAL",
        connects,
    ),
    _case(
        "commands",
        "framing",
        "every line sent is a command of version 1, ended by \\n",
        "send DEAL, HIT, STAND or QUIT, each ended by \\r\\n (or \\n), as bytes: "
        's.sendall(b"HIT\\r\\n")',
        commands,
    ),
    _case(
        "waits-for-turn",
        "the game",
        "HIT and STAND only after TURN, DEAL only between rounds: no ERROR NOT-NOW",
        "HIT or STAND only when the last line was TURN: a round ends without "
        "one at 21, on a bust, and after STAND; DEAL once RESULT and SCORE came",
        waits_for_turn,
    ),
    _case(
        "plays-every-round",
        "the game",
        "exactly `rounds` rounds played to their RESULT, then QUIT",
        "your client waited for a line that never came, or stopped early: "
        "after STAND the dealer's lines come until RESULT and SCORE, and after "
        "a HIT (or a DEAL) that reaches 21 or more no TURN comes. Read lines "
        "until the one that ends what you wait for, never a fixed number of "
        "recv calls; and count the rounds: `rounds` RESULT lines, then QUIT",
        plays_every_round,
    ),
    _case(
        "quit",
        "the end of a session",
        "QUIT after the last round, then the client closes once BYE came",
        "send QUIT, read until the BYE line, then close the socket (s.close(), "
        "or a with block)",
        quit_,
    ),
    _case(
        "returns",
        "the end of a session",
        "play returns once the session is over, without an exception",
        'return from play after BYE; recv returns b"" when the server has '
        "closed: stop reading then, never loop on it",
        returns,
    ),
    _case(
        "lines-in-pieces",
        "framing",
        "rounds whose lines arrived in pieces were played right",
        "recv can return part of a line: keep reading until you have a whole "
        'one (a buffer; cut a line off at each b"\\n")',
        _framed("in pieces"),
    ),
    _case(
        "lines-together",
        "framing",
        "rounds whose replies arrived in one piece were played right",
        "one recv can return several lines: answer them one by one, and keep "
        "what follows the last \\n for the next recv",
        _framed("all at once"),
    ),
]


def check_client(
    play: Callable, cases: list[Case], service: str = "blackjack-client"
) -> CheckReport:
    """Run the sessions ``cases`` need, then judge each case on them."""
    if not callable(play):
        raise ValueError(
            f"{service} checks a client: pass your function, "
            f"labkit.check({service!r}, play)"
        )
    needed: list[str] = []
    for case in cases:
        for framing in NEEDS.get(case.name, ("line by line",)):
            if framing not in needed:
                needed.append(framing)
    began = time.monotonic()
    sessions = Sessions({f: run_session(play, f) for f in FRAMINGS if f in needed})
    results = []
    for case in cases:
        try:
            case.run(sessions)
            results.append(CaseResult(case.name, case.group, case.title, True))
        except Failed as failure:
            results.append(
                CaseResult(
                    case.name,
                    case.group,
                    case.title,
                    False,
                    sent=failure.sent,
                    expected=failure.expected,
                    received=failure.received,
                    hint=failure.hint or case.hint,
                )
            )
    notes = []
    if "line by line" in sessions.by_framing:
        plain = sessions.plain
        if plain.settled:
            notes.append(
                f"your strategy won {plain.wins} of {plain.settled} rounds; "
                f"basic strategy wins {basic_strategy_wins(plain.settled)} "
                f"of the same {plain.settled}"
            )
        else:
            notes.append("your client finished no round yet: no win rate")
    return CheckReport(
        service=service,
        address=("127.0.0.1", 0),
        results=results,
        seconds=time.monotonic() - began,
        notes=notes,
    )
