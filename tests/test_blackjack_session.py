"""BlackjackSession without sockets: bytes in, bytes out, as docs/protocol.md says.

Also the transcript checker itself: it must catch each way a server can
break the protocol, or the transcript tests would prove nothing.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.blackjack.check import check_transcript
from labkit.blackjack.game import FULL_DECK, Card, Game
from labkit.clients import ProtocolError
from labkit.limits import Limits
from labkit.services.blackjack import HELP, BlackjackSession

pytestmark = pytest.mark.timeout(120)

GREETING = b"WELCOME labkit-blackjack/1 type HELP for commands\r\n"
COMMANDS = ["DEAL", "HIT", "STAND", "SCORE", "HELP", "deal", " hit ", "Stand\t",
            "hit me", "FOO", "", "   "]  # fmt: skip


class StackedRandom(random.Random):
    """A random source whose every shuffle puts the given cards on top."""

    def __init__(self, *top: str) -> None:
        super().__init__(0)
        self.top = [Card.parse(text) for text in top]

    def shuffle(self, deck: list) -> None:  # type: ignore[override]
        deck[:] = self.top + [card for card in FULL_DECK if card not in self.top]


def new_session(
    seed: int | None = 1, idle_timeout: float = 300.0, **options
) -> BlackjackSession:
    limits = Limits(idle_timeout=idle_timeout)
    session = BlackjackSession("127.0.0.1", limits, seed=seed, **options)
    session.send_bytes(session.connection_made())  # the greeting waits in the queue
    return session


def stacked_session(*top: str) -> BlackjackSession:
    session = new_session()
    session.game = Game(StackedRandom(*top))
    return session


def feed(session: BlackjackSession, data: bytes, cuts=()) -> bytes:
    """Feed ``data`` cut at ``cuts``; return everything sent, greeting included."""
    edges = [0, *sorted(set(cuts)), len(data)]
    out = session.take_output()
    for start, end in zip(edges, edges[1:], strict=False):
        out += session.data_received(data[start:end])
    return out


def lines(data: bytes) -> list[str]:
    assert data.endswith(b"\r\n") or not data
    text = data.decode("ascii")
    assert "\n" not in text.replace("\r\n", "")
    return text.split("\r\n")[:-1]


def transcript(commands: list[str], output: bytes) -> list[tuple[str, str]]:
    """Everything sent first, then everything received: pipelined."""
    return [("C", c) for c in commands] + [("S", line) for line in lines(output)]


# -- exact lines ---------------------------------------------------------------------


def test_the_greeting():
    assert new_session().take_output() == GREETING


def test_the_example_of_the_protocol_byte_for_byte():
    session = stacked_session("9C", "10H", "6D", "6S", "4S", "KD")
    out = feed(session, b"deal\nhit\r\nstand\n")
    assert out == GREETING + (
        b"HAND DEALER ? 10H ??\r\n"
        b"HAND PLAYER 15 9C 6D\r\n"
        b"TURN HIT STAND\r\n"
        b"HAND PLAYER 19 9C 6D 4S\r\n"
        b"TURN HIT STAND\r\n"
        b"HAND DEALER 16 10H 6S\r\n"
        b"HAND DEALER 26 10H 6S KD\r\n"
        b"RESULT WIN 19 26 DEALER-BUST\r\n"
        b"SCORE 1 0 0\r\n"
    )


def test_21_on_the_deal_has_no_turn_line():
    session = stacked_session("AS", "10H", "KD", "7S")
    assert lines(feed(session, b"DEAL\n"))[1:] == [
        "HAND DEALER ? 10H ??",
        "HAND PLAYER 21 AS KD",
        "HAND DEALER 17 10H 7S",
        "RESULT WIN 21 17 HIGHER",
        "SCORE 1 0 0",
    ]
    assert lines(feed(session, b"HIT\n")) == [
        "ERROR NOT-NOW no round in play; DEAL to start one"
    ]


def test_a_bust_shows_the_hole_card_and_no_dealer_draw():
    session = stacked_session("10S", "2H", "6D", "3S", "KC")
    assert lines(feed(session, b"DEAL\nHIT\n"))[-4:] == [
        "HAND PLAYER 26 10S 6D KC",
        "HAND DEALER 5 2H 3S",
        "RESULT LOSE 26 5 BUST",
        "SCORE 0 1 0",
    ]


def test_rejected_commands_get_one_error_and_leave_the_round_in_play():
    session = stacked_session("9C", "10H", "6D", "7S", "2S")
    feed(session, b"DEAL\n")
    out = feed(
        session, b"DEAL\nFOO bar\nDE\xe9L\n" + b"X" * 600 + b"\nSCORE\nHELP\n\n  \n"
    )
    assert lines(out) == [
        "ERROR NOT-NOW a round is in play; HIT or STAND first",
        "ERROR UNKNOWN-COMMAND FOO is not a command; try HELP",
        "ERROR BAD-ENCODING lines must be printable ASCII; line ignored",
        "ERROR LINE-TOO-LONG lines are limited to 512 bytes; line ignored",
        "SCORE 0 0 0",
        *(f"INFO {text}" for text in HELP),
    ]
    assert lines(feed(session, b"hit me\n")) == [
        "HAND PLAYER 17 9C 6D 2S",
        "TURN HIT STAND",
    ]


def test_commands_are_case_insensitive_and_spaces_around_them_are_ignored():
    session = stacked_session("9C", "10H", "6D", "7S")
    out = lines(feed(session, b"  dEaL \r\n\tsTaNd\t\n"))
    assert out[1:4] == [
        "HAND DEALER ? 10H ??",
        "HAND PLAYER 15 9C 6D",
        "TURN HIT STAND",
    ]
    assert out[-1] == "SCORE 0 1 0"


def test_help_teaches_the_rules_in_info_lines_at_any_time():
    out = lines(feed(new_session(), b"help\n"))[1:]
    assert 3 <= len(out) == len(HELP)
    assert all(line.startswith("INFO ") and len(line) <= 200 for line in out)
    text = " ".join(out)
    for word in ("21", "17", "DEAL", "HIT", "STAND", "SCORE", "QUIT", "ace"):
        assert word in text


def test_quit_says_bye_closes_and_reads_nothing_more():
    session = new_session()
    out = feed(session, b"DEAL\nQUIT\nSCORE\n")
    assert lines(out)[-1] == "BYE see you next time"
    assert session.closing
    assert feed(session, b"SCORE\n") == b""


def test_eof_ends_the_session_quietly():
    session = new_session()
    feed(session, b"DEAL\n")
    assert session.eof_received() == b"" and session.closing


def test_the_idle_limit_closes_with_an_error_line():
    now = [100.0]
    session = new_session(idle_timeout=30, clock=lambda: now[0])
    feed(session, b"DEAL\n")
    now[0] += 29
    assert session.deadline_passed() == b"" and not session.closing
    session.data_received(b"SCO")  # an unfinished line is not activity
    now[0] += 1.5
    assert (
        session.deadline_passed()
        == b"ERROR IDLE-TIMEOUT no command for 30 seconds; closing\r\n"
    )
    assert session.closing


def test_the_seed_deals_the_same_on_every_session_and_none_shuffles_unpredictably():
    script = b"DEAL\nSTAND\nDEAL\nHIT\nSTAND\nDEAL\n"
    assert feed(new_session(42), script) == feed(new_session(42), script)
    assert feed(new_session(42), script) != feed(new_session(43), script)
    deals = {feed(new_session(None), b"DEAL\n") for _ in range(10)}
    assert len(deals) > 5


# -- any chunking, any script ----------------------------------------------------------

SCRIPT = (
    b"help\r\ndeal\nHIT\r\n\xff\xfd\x01stand\r\nscore\nDEAL\n\n"
    b"bogus\r\nDE\x80AL\nstand\nDEAL\nhit\nhit\nSTAND\nSCORE\nQUIT\n"
)


def test_every_chunk_size_gives_the_same_bytes():
    whole = feed(new_session(7), SCRIPT)
    check_transcript(transcript(["help", "deal", "HIT", "stand", "score", "DEAL", "",
                                 "bogus", "DE\x80AL", "stand", "DEAL", "hit", "hit",
                                 "STAND", "SCORE", "QUIT"], whole))  # fmt: skip
    for size in range(1, 10):
        cuts = range(size, len(SCRIPT), size)
        assert feed(new_session(7), SCRIPT, cuts) == whole, f"chunks of {size}"


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_cut_gives_the_same_bytes(data):
    cuts = data.draw(st.sets(st.integers(1, len(SCRIPT) - 1)))
    assert feed(new_session(7), SCRIPT, cuts) == feed(new_session(7), SCRIPT)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    commands=st.lists(st.sampled_from(COMMANDS), max_size=40),
    data=st.data(),
)
def test_any_script_in_any_chunking_keeps_every_invariant(seed, commands, data):
    """Totals, the dealer's rule, the table, no card twice, the score (the checker)."""
    script = "".join(f"{command}\r\n" for command in commands).encode()
    if script and data.draw(st.booleans(), label="one byte at a time"):
        cuts = range(1, len(script))
    else:
        cuts = data.draw(st.sets(st.integers(1, max(1, len(script) - 1))))
    out = feed(new_session(seed), script, cuts)
    assert out == feed(new_session(seed), script)
    checker = check_transcript(transcript(commands, out))
    outcomes = [result.outcome for result in checker.results]
    assert (checker.score.wins, checker.score.losses, checker.score.pushes) == (
        outcomes.count("WIN"),
        outcomes.count("LOSE"),
        outcomes.count("PUSH"),
    )


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    commands=st.lists(st.sampled_from(COMMANDS), max_size=30),
)
def test_the_hole_card_is_never_on_the_wire_before_the_reveal(seed, commands):
    session = new_session(seed)
    session.take_output()
    before_reveal: list[str] = []  # every word sent since this round's deal
    for command in commands:
        for line in lines(session.data_received(command.encode() + b"\n")):
            words = line.split()
            if line.startswith("HAND DEALER ?"):
                before_reveal = []
            dealer = session.game.round.dealer if session.game.round else []
            hole = dealer[1] if len(dealer) > 1 else None  # the second card
            revealing = line.startswith("HAND DEALER") and words[2] != "?"
            if hole is not None and revealing and len(words) == 5:
                assert str(hole) not in before_reveal, (hole, before_reveal)
                assert words[4] == str(hole)
            before_reveal += words


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), rounds=st.integers(1, 8))
def test_score_counts_every_result(seed, rounds):
    session = new_session(seed)
    sent = []
    for _ in range(rounds):
        sent += ["DEAL", "HIT", "STAND", "SCORE"]
    out = lines(feed(session, "".join(c + "\n" for c in sent).encode()))
    results = [line.split()[1] for line in out if line.startswith("RESULT")]
    assert len(results) == rounds
    expected = (
        f"SCORE {results.count('WIN')} {results.count('LOSE')} {results.count('PUSH')}"
    )
    assert out[-1] == expected


# -- the checker catches what it must ------------------------------------------------

GOOD = [
    ("S", "WELCOME labkit-blackjack/1 type HELP for commands"),
    ("C", "DEAL"),
    ("S", "HAND DEALER ? 10H ??"),
    ("S", "HAND PLAYER 15 9C 6D"),
    ("S", "TURN HIT STAND"),
    ("C", "HIT"),
    ("S", "HAND PLAYER 19 9C 6D 4S"),
    ("S", "TURN HIT STAND"),
    ("C", "STAND"),
    ("S", "HAND DEALER 16 10H 6S"),
    ("S", "HAND DEALER 26 10H 6S KD"),
    ("S", "RESULT WIN 19 26 DEALER-BUST"),
    ("S", "SCORE 1 0 0"),
]


def replaced(index: int, line: str) -> list[tuple[str, str]]:
    return [*GOOD[:index], ("S", line), *GOOD[index + 1 :]]


def test_the_checker_accepts_the_protocols_example():
    checker = check_transcript(GOOD)
    assert checker.score.wins == 1 and not checker.awaiting_reply


@pytest.mark.parametrize(
    "broken, why",
    [
        (replaced(0, "HELLO there"), "WELCOME"),
        (replaced(3, "HAND PLAYER 16 9C 6D"), "best value"),
        (replaced(3, "HAND PLAYER 20 10H QD"), "twice"),
        (replaced(2, "HAND DEALER 10 10H"), "hidden"),
        (replaced(4, "TURN HIT"), "TURN"),
        (replaced(6, "HAND PLAYER 19 9C 6D 4S 2C"), "PLAYER"),
        (replaced(10, "HAND DEALER 20 10H 6S 4S"), "twice"),
        (replaced(9, "HAND DEALER 20 QS 10H"), "upcard"),
        (replaced(11, "RESULT LOSE 19 26 LOWER"), "agree"),
        (replaced(11, "RESULT WIN 19 26 HIGHER"), "agree"),
        (replaced(12, "SCORE 0 1 0"), "SCORE"),
        (replaced(4, "TURN HIT STAND\u00e9"), "ASCII"),
        (replaced(4, "turn HIT STAND"), "KEYWORD"),
        (replaced(4, "INFO 6S is the dealer's hole card"), "TURN"),
        (GOOD[:10] + [("S", "RESULT WIN 19 16 HIGHER")], "stopped at 16"),
        (GOOD[:5] + [("C", "DEAL"), ("S", "HAND DEALER ? 2C ??")], "NOT-NOW"),
        (GOOD[:2] + [("S", "ERROR NOT-NOW no")], "allowed"),
        (
            GOOD[:5] + [("C", "SCORE"), ("S", "SCORE 0 0 0"), ("S", "SCORE 0 0 0")],
            "no command",
        ),
        (
            GOOD + [("C", "QUIT"), ("S", "BYE"), ("S", "SCORE 1 0 0")],
            "after the server closed",
        ),
        (GOOD + [("C", "HELP"), ("S", "SCORE 1 0 0")], "INFO"),
        (GOOD + [("C", "FOO"), ("S", "ERROR NOT-NOW x")], "UNKNOWN-COMMAND"),
        (GOOD[:9], "did not finish"),
    ],
)
def test_the_checker_catches(broken, why):
    with pytest.raises(ProtocolError, match=why):
        check_transcript(broken)


def test_the_checker_catches_a_dealer_drawing_at_17_and_a_leaked_hole_card():
    dealt = [GOOD[0], ("C", "DEAL"), ("S", "HAND DEALER ? 10H ??"),
             ("S", "HAND PLAYER 15 9C 6D"), ("S", "TURN HIT STAND")]  # fmt: skip
    drew_at_17 = [*dealt, ("C", "STAND"), ("S", "HAND DEALER 17 10H 7S"),
                  ("S", "HAND DEALER 19 10H 7S 2C")]  # fmt: skip
    with pytest.raises(ProtocolError, match="drew at 17"):
        check_transcript(drew_at_17, complete=False)
    leaked = [
        *dealt,
        ("S", "X-DEBUG hole 7S"),
        ("C", "STAND"),
        ("S", "HAND DEALER 17 10H 7S"),
    ]
    with pytest.raises(ProtocolError, match="before the reveal"):
        check_transcript(leaked, complete=False)


def test_the_checker_follows_pipelined_commands_unknown_lines_busy_and_idle():
    pipelined = [GOOD[0], ("C", "SCORE"), ("C", "HELP"), ("C", "HELP"), ("C", "DEAL"),
                 ("S", "SCORE 0 0 0"), ("S", "X-NEWS ignored"), ("S", "INFO a"),
                 ("S", "INFO b"), ("S", "HAND DEALER ? 10H ??")]  # fmt: skip
    checker = check_transcript(pipelined, complete=False)
    assert checker.awaiting_reply and checker.in_play
    check_transcript([("C", "DEAL"), ("S", "ERROR BUSY full")])
    idle = [GOOD[0], ("C", "DEAL"), ("S", "ERROR IDLE-TIMEOUT bye")]
    assert check_transcript(idle).closed
    with pytest.raises(ProtocolError, match="HELP"):
        check_transcript([GOOD[0], ("C", "HELP"), ("C", "HELP"), ("S", "INFO a"),
                          ("C", "SCORE"), ("S", "SCORE 0 0 0")])  # fmt: skip
