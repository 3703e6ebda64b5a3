"""A Blackjack version 2 table as a state machine, with a clock moved by hand.

Whole hands line by line (docs/protocol.md, "tables: Blackjack version 2"
and its Decisions), then a hypothesis state machine that seats, bets, plays,
leaves, disconnects and waits at random, and checks the section's
invariants after every step.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from labkit.blackjack.game import Card
from labkit.tables.check import TableChecker
from labkit.tables.rules import DEFAULT_RULES, Rules
from labkit.tables.table import COMMANDS, SeatEmptied, Send, Table

pytestmark = pytest.mark.timeout(120)


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def cards(*texts: str) -> list[Card]:
    return [Card.parse(text) for text in texts]


def make_table(*top: str, rules: Rules = DEFAULT_RULES, seed: int = 0):
    """A table whose shoe deals ``top`` first (no SHUFFLE: it is shuffled)."""
    clock = Clock()
    numbers = itertools.count(1)
    table = Table(
        1,
        rules,
        rng=random.Random(seed),
        clock=clock,
        tokens=lambda: f"t{next(numbers)}",
    )
    table.shoe.shuffle()
    table.shoe.put_on_top(cards(*top))
    return table, clock


def to(outputs, who) -> list[str]:
    """The lines ``who`` gets from one call, in order."""
    return [out.line for out in outputs if isinstance(out, Send) and who in out.to]


def seat_two(table: Table) -> None:
    table.join("ann", "ann")
    table.join("bob", "bob")


# -- whole hands ------------------------------------------------------------


def test_a_split_a_double_after_it_and_a_dealer_bust():
    table, _ = make_table(
        # deal: ann, bob, upcard, ann, bob, hole
        *("8S", "10H", "6D", "8D", "9H", "10C"),
        *("3C", "KS"),  # ann's split hands' second cards
        "QH",  # ann's double on 8 3
        "7S",  # the dealer's 16 draws
    )
    assert to(table.join("ann", "ann"), "ann") == [
        "SEATED 1 1 1000 t1",
        "STATE BEGIN",
        "SEAT 1 ann 1000",
        "STATE END",
        "BETTING 15",
    ]
    assert to(table.join("bob", "bob"), "ann") == ["SEAT 2 bob 1000"]
    assert to(table.command("ann", "BET", "20"), "bob") == ["BET 1 20"]
    assert to(table.command("bob", "bet", "30"), "ann") == [
        "BET 2 30",
        "HAND DEALER ? 6D ??",
        "HAND 1:1 20 16 8S 8D",
        "HAND 2:1 30 19 10H 9H",
        "TURN 1:1 30 HIT STAND DOUBLE SPLIT",
    ]
    assert to(table.command("ann", "SPLIT"), "bob") == [
        "ACTION 1:1 SPLIT",
        "HAND 1:1 20 11 8S 3C",
        "HAND 1:2 20 18 8D KS",
        "TURN 1:1 30 HIT STAND DOUBLE",
    ]
    assert to(table.command("ann", "DOUBLE"), "ann") == [
        "ACTION 1:1 DOUBLE",
        "HAND 1:1 40 21 8S 3C QH",
        "TURN 1:2 30 HIT STAND DOUBLE",
    ]
    assert to(table.command("ann", "STAND"), "ann") == [
        "ACTION 1:2 STAND",
        "TURN 2:1 30 HIT STAND DOUBLE",
    ]
    assert to(table.command("bob", "STAND"), "ann") == [
        "ACTION 2:1 STAND",
        "HAND DEALER 16 6D 10C",
        "HAND DEALER 23 6D 10C 7S",
        "PAYOUT 1:1 WIN 40 DEALER-BUST",
        "PAYOUT 1:2 WIN 20 DEALER-BUST",
        "PAYOUT 2:1 WIN 30 DEALER-BUST",
        "CHIPS 1 1060",
        "CHIPS 2 1030",
        "BETTING 15",
    ]


def test_insurance_against_a_dealer_blackjack_pays_two_to_one():
    table, _ = make_table("10S", "AH", "10D", "KC")
    table.join("ann", "ann")
    assert to(table.command("ann", "BET", "20"), "ann") == [
        "BET 1 20",
        "HAND DEALER ? AH ??",
        "HAND 1:1 20 20 10S 10D",
        "TURN 0:0 30 INSURE",
    ]
    assert to(table.command("ann", "HIT"), "ann") == [
        "ERROR NOT-NOW only INSURE is open now"
    ]
    # Everyone who can insure has: the peek comes at once.
    assert to(table.command("ann", "INSURE"), "ann") == [
        "ACTION 1:1 INSURE",
        "HAND DEALER 21 AH KC",
        "INSURANCE 1 20",
        "PAYOUT 1:1 LOSE -20 DEALER-BLACKJACK",
        "BETTING 15",  # +20 and -20: the chips did not change, no CHIPS line
    ]


def test_a_blackjack_pays_three_to_two_after_an_insurance_window_runs_out():
    table, clock = make_table("AS", "AH", "KD", "9C")
    table.join("ann", "ann")
    table.command("ann", "BET", "25")
    clock.advance(29.5)
    assert to(table.command("ann", "CHIPS"), "ann") == ["CHIPS 1 1000"]
    clock.advance(0.5)
    # The peek finds no blackjack; ann's 21 needs no turn; the dealer need not draw.
    assert to(table.deadline_passed(), "ann") == [
        "HAND DEALER 20 AH 9C",
        "PAYOUT 1:1 BLACKJACK 37 BLACKJACK",
        "CHIPS 1 1037",
        "BETTING 15",
    ]


def test_insurance_lost_is_settled_with_the_hand():
    table, _ = make_table("10S", "AH", "9D", "7C", "5S")
    table.join("ann", "ann")
    table.command("ann", "BET", "20")
    assert to(table.command("ann", "INSURE"), "ann") == [
        "ACTION 1:1 INSURE",
        "INSURANCE 1 -10",
        "TURN 1:1 30 HIT STAND DOUBLE",
    ]
    assert to(table.command("ann", "STAND"), "ann") == [
        "ACTION 1:1 STAND",
        "HAND DEALER 18 AH 7C",
        "PAYOUT 1:1 WIN 20 HIGHER",
        "CHIPS 1 1010",
        "BETTING 15",
    ]


def test_split_aces_take_one_card_each_and_21_is_not_a_blackjack():
    table, _ = make_table("AS", "5D", "AH", "6C", "KD", "9S", "10H")
    table.join("ann", "ann")
    assert to(table.command("ann", "BET", "20"), "ann")[-1] == (
        "TURN 1:1 30 HIT STAND DOUBLE SPLIT"
    )
    assert to(table.command("ann", "SPLIT"), "ann") == [
        "ACTION 1:1 SPLIT",
        "HAND 1:1 20 21 AS KD",
        "HAND 1:2 20 20 AH 9S",
        "HAND DEALER 11 5D 6C",
        "HAND DEALER 21 5D 6C 10H",
        "PAYOUT 1:1 PUSH 0 EQUAL",
        "PAYOUT 1:2 LOSE -20 LOWER",
        "CHIPS 1 980",
        "BETTING 15",
    ]


@pytest.mark.parametrize(
    ("h17", "dealer", "payout"),
    [
        (False, ["HAND DEALER 17 6H AC"], "PAYOUT 1:1 PUSH 0 EQUAL"),
        (
            True,
            ["HAND DEALER 17 6H AC", "HAND DEALER 19 6H AC 2D"],
            "PAYOUT 1:1 LOSE -10 LOWER",
        ),
    ],
)
def test_a_turn_times_out_and_the_dealer_stands_or_hits_a_soft_17(h17, dealer, payout):
    table, clock = make_table("10S", "6H", "7D", "AC", "2D", rules=Rules(h17=h17))
    table.join("ann", "ann")
    table.command("ann", "BET", "10")
    assert table.deadline == 30
    clock.advance(30)
    out = to(table.deadline_passed(), "ann")
    assert out[0] == "ACTION 1:1 STAND TIMEOUT"
    assert out[1 : -1 if h17 else -1][: len(dealer)] == dealer
    assert payout in out


def test_a_hit_to_21_ends_the_turn_and_each_hit_restarts_the_clock():
    table, clock = make_table("5S", "9D", "6H", "7C", "4C", "6D", "10S")
    table.join("ann", "ann")
    table.command("ann", "BET", "10")
    clock.advance(20)
    assert to(table.command("ann", "HIT"), "ann") == [
        "ACTION 1:1 HIT",
        "HAND 1:1 10 15 5S 6H 4C",
        "TURN 1:1 30 HIT STAND",
    ]
    assert table.deadline == 50, "a fresh 30 s for the new decision"
    assert to(table.command("ann", "HIT"), "ann")[:3] == [
        "ACTION 1:1 HIT",
        "HAND 1:1 10 21 5S 6H 4C 6D",
        "HAND DEALER 16 9D 7C",
    ]


# -- refusals ---------------------------------------------------------------


def test_refusals_change_nothing():
    table, _ = make_table("10S", "10H", "6D", "8D", "9H", "10C")
    seat_two(table)
    table.watch("wes")
    assert to(table.command("ann", "HIT"), "ann") == [
        "ERROR NOT-NOW no turn is in play"
    ]
    for bad in ([], ["9"], ["501"], ["ten"], ["-10"], ["1e2"]):
        (line,) = to(table.command("ann", "BET", *bad), "ann")
        assert line.startswith("ERROR BAD-BET "), bad
    assert to(table.command("wes", "BET", "10"), "wes") == [
        "ERROR NOT-NOW watchers cannot play; LEAVE, then JOIN"
    ]
    table.command("ann", "BET", "500")
    assert to(table.command("ann", "BET", "10"), "ann") == [
        "ERROR NOT-NOW you have bet this round already"
    ]
    assert to(table.command("ann", "REBUY"), "ann")[0].startswith("ERROR NOT-NOW ")
    table.command("bob", "BET", "10")
    assert to(table.command("bob", "STAND"), "bob") == [
        "ERROR NOT-YOUR-TURN it is seat 1's turn"
    ]
    assert to(table.command("ann", "SPLIT"), "ann") == [
        "ERROR NOT-NOW SPLIT is not offered; TURN lists what is"
    ]
    # A bet of 500 stakes half of 1000 chips: the other 500 pay for a double.
    assert table.seats[1].available == 500
    assert table.turn == (1, 1)
    with pytest.raises(ValueError):
        table.command("ann", "DEAL")
    with pytest.raises(LookupError):
        table.command("zed", "HIT")
    assert set(COMMANDS) >= {"BET", "HIT", "STAND", "DOUBLE", "SPLIT", "INSURE"}


def test_a_double_needs_the_chips_and_a_rebuy_needs_to_be_broke():
    table, _ = make_table("10S", "6D", "QS", "10C", "5H", "6C")
    table.join("ann", "ann", chips=15)
    table.command("ann", "BET", "15")
    assert table.turn == (1, 1)
    out = to(table.command("ann", "STAND"), "ann")
    assert "PAYOUT 1:1 LOSE -15 LOWER" in out and "CHIPS 1 0" in out
    assert to(table.command("ann", "BET", "10"), "ann")[0].startswith("ERROR BAD-BET")
    assert to(table.command("ann", "REBUY"), "ann") == ["CHIPS 1 1000"]


# -- joining, watching, leaving, coming back --------------------------------


def test_a_watcher_joining_mid_hand_gets_the_state():
    table, clock = make_table("10S", "10H", "6D", "8D", "9H", "10C")
    seat_two(table)
    table.command("ann", "BET", "20")
    table.command("bob", "BET", "30")
    clock.advance(10.5)
    assert to(table.watch("wes"), "wes") == [
        "WATCHING 1",
        "STATE BEGIN",
        "SEAT 1 ann 1000",
        "SEAT 2 bob 1000",
        "BET 1 20",
        "BET 2 30",
        "HAND DEALER ? 6D ??",
        "HAND 1:1 20 18 10S 8D",
        "HAND 2:1 30 19 10H 9H",
        "TURN 1:1 20 HIT STAND DOUBLE",
        "STATE END",
    ]
    assert table.audience == ("ann", "bob", "wes")
    assert to(table.command("wes", "LEAVE"), "wes") == ["LEFT 1"]
    assert table.audience == ("ann", "bob")


def test_leaving_in_a_hand_stands_it_and_empties_the_seat_after_settlement():
    table, _ = make_table("10S", "10H", "6D", "8D", "9H", "10C", "KC")
    seat_two(table)
    table.command("ann", "BET", "20")
    table.command("bob", "BET", "30")
    out = table.command("ann", "LEAVE")
    assert to(out, "ann") == ["LEFT 1"]
    assert to(out, "bob") == ["ACTION 1:1 STAND", "TURN 2:1 30 HIT STAND DOUBLE"]
    out = table.command("bob", "STAND")
    assert to(out, "bob")[-4:] == [
        "CHIPS 1 1020",
        "CHIPS 2 1030",
        "EMPTY 1",
        "BETTING 15",
    ]
    assert to(out, "ann") == []
    assert SeatEmptied("ann", 1, "ann", 1020) in out


def test_a_token_brings_a_seat_back_within_60_seconds_and_not_after():
    table, clock = make_table("10S", "6D", "8D", "10C")
    table.join("ann", "ann")
    table.join("bob", "bob")
    table.disconnect("ann")
    clock.advance(59)
    assert to(table.rejoin("ann2", "t1"), "ann2")[:2] == [
        "SEATED 1 1 1000 t1",
        "STATE BEGIN",
    ]
    assert to(table.rejoin("zed", "t1"), "zed") == [
        "ERROR BAD-TOKEN no seat at this table waits for that token"
    ], "a seat whose player is here is not for the taking"
    table.disconnect("ann2")
    clock.advance(59.9)
    assert table.seats[1].gone_since is not None
    clock.advance(0.1)
    out = table.rejoin("ann3", "t1")
    assert to(out, "bob")[-1] == "EMPTY 1"  # after a betting round that ran out
    assert to(out, "ann3") == [
        "ERROR BAD-TOKEN no seat at this table waits for that token"
    ]


def test_a_disconnected_players_hand_stands_when_its_turn_comes():
    table, _ = make_table("10S", "10H", "6D", "8D", "9H", "10C", "5C")
    seat_two(table)
    table.command("ann", "BET", "20")
    table.command("bob", "BET", "30")
    table.command("ann", "STAND")
    assert to(table.disconnect("bob"), "ann")[:3] == [
        "ACTION 2:1 STAND",
        "HAND DEALER 16 6D 10C",
        "HAND DEALER 21 6D 10C 5C",
    ]


def test_ten_betting_rounds_without_a_bet_unseat_a_player():
    table, clock = make_table()
    seat_two(table)
    for _ in range(9):
        table.command("ann", "BET", "10")
        clock.advance(15)
        table.deadline_passed()  # bob sat out, ann is dealt and times out
        while table.in_play:
            clock.advance(30)
            table.deadline_passed()
    table.command("ann", "BET", "10")
    clock.advance(15)
    out = table.deadline_passed()
    assert to(out, "bob")[0] == "EMPTY 2" and "bob" not in to(out, "ann")
    assert "bob" not in table.audience


def test_a_table_alone_waits_and_no_bet_opens_betting_again():
    table, clock = make_table()
    assert table.deadline is None and table.phase == "waiting"
    table.join("ann", "ann")
    clock.advance(15)
    assert to(table.deadline_passed(), "ann") == ["BETTING 15"]
    assert to(table.command("ann", "LEAVE"), "ann") == ["LEFT 1"]
    assert table.phase == "waiting" and table.deadline is None


def test_a_seven_seat_table_is_full_and_a_seat_is_not_taken_twice():
    table, _ = make_table()
    for n in range(7):
        table.join(n, f"p{n}")
    assert to(table.join("late", "late"), "late") == [
        "ERROR TABLE-FULL table 1 has no free seat"
    ]
    assert to(table.join(3, "again"), 3) == [
        "ERROR NOT-NOW you are at table 1; LEAVE first"
    ]
    table.command(2, "LEAVE")
    assert to(table.join("late", "late"), "late")[0] == "SEATED 1 3 1000 t8"


# -- the stateful test ------------------------------------------------------

PEOPLE = [f"p{n}" for n in range(6)]
people = st.sampled_from(PEOPLE)
PRIVATE = ("SEATED", "WATCHING", "LEFT", "ERROR")
# Lines worth seeing in hypothesis's statistics: does the machine reach them?
MARKS = (
    "HAND DEALER ?",
    "SPLIT",
    "DOUBLE",
    "INSURANCE",
    "BLACKJACK",
    "SHUFFLE",
    "TIMEOUT",
    "EMPTY",
)
# Cards that make insurance, splits and blackjacks common, stacked on the shoe.
RICH = [Card(rank, suit) for rank in ("A", "10", "K", "8") for suit in "CDHS"]


class TableMachine(RuleBasedStateMachine):
    """People come and go at random; the invariants hold after every step.

    The machine keeps its own account of who is at the table, and checks
    each call's lines against it: a table line goes to exactly the
    connections at the table when it is made (before the call or after it),
    an answer to the asker alone. Every connection's lines go through its
    own TableChecker (docs/protocol.md's invariants, from the wire). The
    chips are counted from the lines: the stack, plus nets, plus rebuys.
    """

    @initialize(
        seed=st.integers(0, 2**16),
        decks=st.integers(1, 2),
        h17=st.booleans(),
        seats=st.integers(2, 7),
        top=st.lists(st.sampled_from(RICH), unique=True, max_size=16),
    )
    def setup(self, seed, decks, h17, seats, top):
        # Small stacks and bets, so that players go broke and rebuy.
        self.rules = Rules(
            decks=decks, h17=h17, seats=seats, stack=100, min_bet=10, max_bet=60
        )
        self.clock = Clock()
        numbers = itertools.count(1)
        self.table = Table(
            1,
            self.rules,
            rng=random.Random(seed),
            clock=self.clock,
            tokens=lambda: f"t{next(numbers)}",
        )
        self.table.shoe.shuffle()  # so that the first hand deals ``top`` first
        self.table.shoe.put_on_top(top)
        self.conns = itertools.count()
        self.here: dict[str, str] = {}  # person -> their connection at the table
        self.audience: set[str] = set()  # connections at the table
        self.tokens: dict[str, str] = {}  # person -> their seat's token
        self.checkers: dict[str, TableChecker] = {}
        self.transcripts: dict[str, list[str]] = {}
        self.ledger: dict[int, int] = {}  # seat -> stack + nets + rebuys
        self.pending: Counter[int] = Counter()  # seat -> this hand's nets so far

    # -- one call to the table, checked --

    def call(self, asker, method, *args) -> list[str]:
        """Call the table; check who got what; return the asker's answers."""
        before = set(self.table.audience)
        outputs = method(*args)
        after = set(self.table.audience)
        answers, snapshot, table_lines = [], False, []
        for out in outputs:
            if isinstance(out, SeatEmptied):
                continue
            line, keyword = out.line, out.line.split()[0]
            private = snapshot or keyword in PRIVATE or line.startswith("STATE")
            asked = args[1:2] in (("CHIPS",), ("REBUY",))
            private = private or (keyword == "CHIPS" and asked)
            if line == "STATE BEGIN":
                snapshot = True
            elif line == "STATE END":
                snapshot = False
            if private:
                assert out.to == (asker,), f"{line!r} is for the asker only"
                answers.append(line)
            else:
                table_lines.append(set(out.to))
            for mark in MARKS:
                if mark in line:
                    event(mark)
            for who in out.to:
                self.checkers[who].received(line)
                self.transcripts[who].append(line)
            if not private:
                self.account(line)
        self.one_order(table_lines, before, after)
        return answers

    def account(self, line: str) -> None:
        """Chips change at settlement (CHIPS) by the hand's nets, and at REBUY."""
        keyword, *words = line.split()
        if keyword in ("PAYOUT", "INSURANCE"):
            seat = int(words[0].partition(":")[0])
            self.pending[seat] += int(words[2] if keyword == "PAYOUT" else words[1])
        elif keyword == "CHIPS":
            seat, chips = int(words[0]), int(words[1])
            assert chips == self.ledger[seat] + self.pending[seat], line
            self.ledger[seat], self.pending[seat] = chips, 0
        elif keyword == "BETTING" or line.startswith("HAND DEALER ?"):
            assert not any(self.pending.values()), f"nets with no CHIPS: {line}"
            self.pending.clear()

    @staticmethod
    def one_order(table_lines: list[set[str]], before: set[str], after: set[str]):
        """Everyone at the table throughout the call got every table line of
        it; someone who came or went got an unbroken run of them (up to
        leaving, from arriving), and no one else got any."""
        for conn in before | after:
            got = [i for i, audience in enumerate(table_lines) if conn in audience]
            if conn in before and conn in after:
                assert len(got) == len(table_lines), f"{conn} missed a table line"
            elif got:
                assert got == list(range(got[0], got[-1] + 1)), f"{conn}: a gap"
                assert conn not in before or got[0] == 0, f"{conn} came back"
                assert conn not in after or got[-1] == len(table_lines) - 1
        for audience in table_lines:
            assert audience <= before | after, "a table line to a stranger"

    def connect(self, person: str) -> str:
        conn = f"{person}#{next(self.conns)}"
        self.here[person] = conn
        self.checkers[conn] = TableChecker(self.rules)
        self.transcripts[conn] = []
        return conn

    def gone(self, person: str) -> None:
        conn = self.here.pop(person)
        self.audience.discard(conn)

    # -- what people do --

    @rule(person=people)
    def join(self, person):
        if person in self.here:
            return
        conn = self.connect(person)
        full = len(self.table.seats) == self.rules.seats
        answers = self.call(conn, self.table.join, conn, person)
        if full:
            assert answers[0].startswith("ERROR TABLE-FULL"), answers
            del self.here[person]
            return
        _, _, seat, chips, token = answers[0].split()
        assert answers[0].startswith("SEATED") and int(chips) == self.rules.stack
        self.audience.add(conn)
        self.tokens[person] = token
        self.ledger[int(seat)] = self.rules.stack

    @rule(person=people)
    def watch(self, person):
        if person in self.here:
            return
        conn = self.connect(person)
        assert self.call(conn, self.table.watch, conn)[0] == "WATCHING 1"
        self.audience.add(conn)

    @rule(person=people, amount=st.integers(0, 120))
    def bet(self, person, amount):
        self.command(person, "BET", str(amount))

    @rule(amount=st.integers(10, 60))
    def everyone_bets(self, amount):
        """Hands get dealt: every seated player bets (some cannot afford it)."""
        for seat in list(self.table.seats.values()):
            if seat.present:
                self.command(seat.name, "BET", str(amount))

    @rule(person=people, verb=st.sampled_from(["HIT", "STAND", "DOUBLE", "SPLIT"]))
    def play(self, person, verb):
        self.command(person, verb)

    @rule(verb=st.sampled_from(["HIT", "STAND", "DOUBLE", "SPLIT"]))
    def play_in_turn(self, verb):
        """Whoever's turn it is plays: most moves are the ones offered."""
        if self.table.turn is not None:
            seat = self.table.seats[self.table.turn[0]]
            self.command(seat.name, verb)

    @rule(person=people)
    def insure(self, person):
        self.command(person, "INSURE")

    @rule(person=people)
    def rebuy(self, person):
        seat = self.table.seat_of(self.here.get(person))
        before = seat.chips if seat else 0
        answers = self.command(person, "REBUY")
        if answers and answers[0].startswith("CHIPS"):
            assert before < self.rules.min_bet
            self.ledger[seat.number] += self.rules.stack - before
            event("REBUY")

    @rule(person=people)
    def chips(self, person):
        seat = self.table.seat_of(self.here.get(person))
        answers = self.command(person, "CHIPS")
        if seat is not None:
            assert answers == [f"CHIPS {seat.number} {self.ledger[seat.number]}"]

    @rule(person=people)
    def leave(self, person):
        if person in self.here:
            assert self.command(person, "LEAVE") == ["LEFT 1"]
            self.gone(person)
            self.tokens.pop(person, None)

    @rule(person=people)
    def disconnect(self, person):
        if person in self.here:
            conn = self.here[person]
            self.gone(person)
            self.call(None, self.table.disconnect, conn)

    @rule(person=people)
    def come_back(self, person):
        token = self.tokens.get(person)
        if person in self.here or token is None:
            return
        conn = self.connect(person)
        answers = self.call(conn, self.table.rejoin, conn, token)
        if answers[0].startswith("SEATED"):
            seat, chips = map(int, answers[0].split()[2:4])
            assert chips == self.ledger[seat], "the seat comes back with its chips"
            self.audience.add(conn)
        else:
            assert answers[0].startswith("ERROR BAD-TOKEN"), answers
            del self.here[person]
            del self.tokens[person]

    @rule(seconds=st.sampled_from([1, 5, 14.5, 15, 30, 61]))
    def wait(self, seconds):
        self.clock.advance(seconds)
        self.call(None, self.table.deadline_passed)

    def command(self, person, verb, *args) -> list[str]:
        conn = self.here.get(person)
        if conn is None:
            return []
        return self.call(conn, self.table.command, conn, verb, *args)

    # -- the invariants, after every step --

    @invariant()
    def the_table_serves_exactly_the_connections_at_it(self):
        audience = set(self.table.audience)
        for conn in self.audience - audience:
            # Only the table's idle rule unseats on its own, and says so.
            seat = self.transcripts[conn][-1]
            assert seat.startswith("EMPTY "), (conn, seat)
            person = conn.partition("#")[0]
            self.gone(person)
            self.tokens.pop(person, None)
        assert audience == self.audience

    @invariant()
    def chips_are_the_stack_plus_nets_plus_rebuys(self):
        for number, seat in self.table.seats.items():
            assert seat.chips == self.ledger[number], (number, seat.chips)
            assert 0 <= seat.staked <= seat.chips, "a stake the player has"

    @invariant()
    def no_more_cards_on_the_table_than_the_shoe_holds(self):
        on_table = list(self.table._cards_on_table())
        assert len(on_table) + self.table.shoe.remaining <= 52 * self.rules.decks

    @invariant()
    def a_timer_runs_whenever_the_table_waits_for_someone(self):
        if self.table.phase in ("betting", "insurance", "turns"):
            assert self.table.deadline is not None
            assert self.table.deadline > self.clock.now
        else:
            assert self.table.phase == "waiting"


TableMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_a_table_under_random_people = TableMachine.TestCase
