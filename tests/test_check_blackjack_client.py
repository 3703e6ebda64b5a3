"""labkit.check("blackjack-client", play): labkit plays the server, judging a client.

Real sockets on loopback, the learner's play() in a thread as in exercise 5.
The correct client passes every case and gets the win-rate note; each bug of
the gallery (tests/gallery/blackjack_clients.py) is caught by the case that
names it; a client that hangs or never returns ends the check in bounded
time, leaving no thread and no socket behind.
"""

from __future__ import annotations

import threading
import time

import pytest
from gallery import blackjack_clients
from support import labkit_threads, open_fds, wait_until

import labkit
from labkit.blackjack.game import Card
from labkit.check import case_names
from labkit.check.client_blackjack import (
    ROUNDS,
    basic_strategy,
    basic_strategy_wins,
    deck,
)

BUGS = list(blackjack_clients.BUGS.items())


def failed(report) -> set[str]:
    return {result.name for result in report.failures}


@pytest.fixture
def no_leaks():
    threads, fds = labkit_threads(), open_fds()
    yield
    assert wait_until(lambda: labkit_threads() == threads), labkit_threads()
    assert wait_until(lambda: open_fds() <= fds), (fds, open_fds())


@pytest.mark.timeout(60)
def test_the_correct_client_passes_and_gets_its_win_rate(no_leaks):
    report = labkit.check("blackjack-client", blackjack_clients.correct)
    assert report.ok, str(report)
    text = str(report).splitlines()
    assert text[-1] == f"{report.total} of {report.total} checks passed"
    assert report.total == len(case_names("blackjack-client")) == 8
    note = text[1]
    assert note.startswith("your strategy won ") and note.endswith(
        f" of the same {ROUNDS}"
    ), note
    again = labkit.check("blackjack-client", blackjack_clients.correct)
    assert str(again) == str(report), "the same client, the same report"


def test_the_gallery_holds_bugs_that_each_say_what_they_are():
    assert len(BUGS) >= 8
    for bug, _ in BUGS:
        assert bug.__doc__ and bug.__doc__.startswith("Bug:"), bug.__name__


@pytest.mark.timeout(60)
@pytest.mark.parametrize("bug, cases", BUGS, ids=[bug.__name__ for bug, _ in BUGS])
def test_each_gallery_bug_is_caught_by_the_case_that_names_it(bug, cases, no_leaks):
    report = labkit.check("blackjack-client", bug)
    may = blackjack_clients.MAY.get(bug, set())
    assert cases <= failed(report) <= cases | may, str(report)
    for name in failed(report):
        result = report[name]
        assert result.expected and result.hint and result.received, str(report)
        assert f"FAIL {name}" in str(report)


@pytest.mark.timeout(60)
def test_only_runs_the_sessions_its_cases_need():
    began = time.monotonic()
    report = labkit.check(
        "blackjack-client", blackjack_clients.splits_each_recv, only=["lines-together"]
    )
    assert report.ok and report.total == 1, str(report)
    report = labkit.check(
        "blackjack-client", blackjack_clients.splits_each_recv, only=["lines-in-pieces"]
    )
    assert failed(report) == {"lines-in-pieces"}
    assert "(sent in 3 pieces)" in "\n".join(report["lines-in-pieces"].sent)
    assert time.monotonic() - began < 20


@pytest.mark.timeout(60)
def test_a_client_that_hangs_ends_the_check_within_30_s_and_leaves_nothing(
    no_leaks,
):
    began = time.monotonic()
    report = labkit.check("blackjack-client", blackjack_clients.hangs)
    took = time.monotonic() - began
    assert took < 30, f"{took:.1f} s"
    assert "labkit stopped its thread" in "\n".join(report["returns"].received)
    assert not [t for t in threading.enumerate() if t.name == "labkit-check-client"]


@pytest.mark.timeout(60)
def test_a_client_that_raises_is_reported_not_printed(capfd):
    def play(host, port, rounds):
        raise RuntimeError("no strategy yet")

    report = labkit.check("blackjack-client", play)
    result = report["returns"]
    assert "(play raised RuntimeError: no strategy yet)" in result.received
    assert "(play ended without connecting)" in result.received
    assert "Traceback" not in "".join(capfd.readouterr())


def test_a_target_that_is_not_a_function_is_refused():
    with pytest.raises(ValueError, match="pass your function"):
        labkit.check("blackjack-client", ("127.0.0.1", 9000))


def test_the_decks_depend_on_the_round_only():
    assert deck(1) == deck(1) != deck(2)
    assert basic_strategy_wins(ROUNDS) == basic_strategy_wins(ROUNDS)


@pytest.mark.parametrize(
    "cards, upcard, move",
    [
        ("10H 2C", "5S", "STAND"),
        ("10H 2C", "2S", "HIT"),
        ("10H 6C", "7S", "HIT"),
        ("10H 6C", "6S", "STAND"),
        ("AH 7C", "9S", "HIT"),
        ("AH 7C", "8S", "STAND"),
        ("AH 6C", "6S", "HIT"),
        ("5H 6C", "10S", "HIT"),
        ("10H 7C", "AS", "STAND"),
    ],
)
def test_basic_strategy_follows_the_chart(cards, upcard, move):
    hand = [Card.parse(card) for card in cards.split()]
    assert basic_strategy(hand, Card.parse(upcard)) == move
