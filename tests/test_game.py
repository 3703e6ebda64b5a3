"""The Blackjack game without I/O: cards, totals, the deal, the dealer, settling."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.blackjack.game import (
    FULL_DECK,
    RANKS,
    SUITS,
    Card,
    Game,
    Hand,
    NotNow,
    Result,
    Round,
    Score,
    Turn,
    hand_total,
    settle,
    shuffled_deck,
)

pytestmark = pytest.mark.timeout(60)


def cards(*texts: str) -> list[Card]:
    return [Card.parse(text) for text in texts]


def stacked(*texts: str) -> list[Card]:
    """A deck whose first cards are ``texts`` (in dealing order), then the rest."""
    top = cards(*texts)
    return top + [card for card in FULL_DECK if card not in top]


def best_total_oracle(hand: list[Card]) -> int:
    """Every way to count the aces; the best one at or under 21, else the least."""
    aces = sum(card.rank == "A" for card in hand)
    base = sum(card.points for card in hand if card.rank != "A")
    totals = {base + sum(values) for values in itertools.product((1, 11), repeat=aces)}
    under = [total for total in totals if total <= 21]
    return max(under) if under else min(totals)


def outcome_oracle(player: int, dealer: int) -> tuple[str, str]:
    """docs/protocol.md's table of outcomes (blackjack, version 1), row by row."""
    if player > 21:
        return "LOSE", "BUST"
    if dealer > 21:
        return "WIN", "DEALER-BUST"
    return {1: ("WIN", "HIGHER"), -1: ("LOSE", "LOWER"), 0: ("PUSH", "EQUAL")}[
        (player > dealer) - (player < dealer)
    ]


# -- cards and totals --------------------------------------------------------


def test_the_deck_has_52_different_cards_written_rank_then_suit():
    assert len(FULL_DECK) == len(set(FULL_DECK)) == 52
    texts = {str(card) for card in FULL_DECK}
    assert {"10H", "AS", "QD", "2C"} <= texts
    assert texts == {rank + suit for rank in RANKS for suit in SUITS}
    for card in FULL_DECK:
        assert Card.parse(str(card)) == card


@pytest.mark.parametrize("text", ["", "1H", "11S", "AX", "as", "10", "H", "??", "A S"])
def test_card_parse_rejects_what_is_not_a_card(text):
    with pytest.raises(ValueError):
        Card.parse(text)


@pytest.mark.parametrize(
    "hand, total",
    [
        ([], 0),
        (["AS", "KD"], 21),
        (["AS", "AD"], 12),
        (["AS", "AD", "9C"], 21),
        (["AS", "6D"], 17),  # soft 17
        (["AS", "6D", "10C"], 17),  # the ace drops to 1
        (["KS", "QD", "5C"], 25),
        (["JS", "QD"], 20),
        (["AS", "AD", "AC", "AH"], 14),
        (["2S", "3D", "4C", "5H", "6S"], 20),
    ],
)
def test_hand_total_examples(hand, total):
    assert hand_total(cards(*hand)) == total


@given(st.lists(st.sampled_from(FULL_DECK), max_size=12, unique=True))
def test_hand_total_is_the_best_value(hand):
    assert hand_total(hand) == best_total_oracle(hand)


@given(st.integers(2, 31), st.integers(2, 31))
def test_settle_follows_the_table(player, dealer):
    result = settle(player, dealer)
    assert (result.outcome, result.reason) == outcome_oracle(player, dealer)
    assert (result.player_total, result.dealer_total) == (player, dealer)


def test_a_player_bust_loses_even_when_the_dealer_busts_too():
    assert settle(22, 23) == Result("LOSE", 22, 23, "BUST")


# -- a round -------------------------------------------------------------------


def test_the_deal_alternates_player_and_dealer_and_hides_the_second_dealer_card():
    deck = stacked("9C", "10H", "6D", "7S")
    game_round = Round(deck)
    events = game_round.deal()
    assert game_round.player == cards("9C", "6D")
    assert game_round.dealer == cards("10H", "7S")
    assert events == [
        Hand("DEALER", (Card("10", "H"),), None, hidden=True),
        Hand("PLAYER", tuple(cards("9C", "6D")), 15),
        Turn(("HIT", "STAND")),
    ]


def test_the_example_round_of_the_protocol():
    game_round = Round(stacked("9C", "10H", "6D", "6S", "4S", "KD"))
    game_round.deal()
    assert game_round.hit() == [Hand.of("PLAYER", cards("9C", "6D", "4S")), Turn()]
    assert game_round.stand() == [
        Hand.of("DEALER", cards("10H", "6S")),
        Hand.of("DEALER", cards("10H", "6S", "KD")),
        Result("WIN", 19, 26, "DEALER-BUST"),
    ]


def test_21_on_the_deal_stands_for_the_player_and_the_dealer_plays_at_once():
    game_round = Round(stacked("AS", "10H", "KD", "5S", "2C", "9D"))
    events = game_round.deal()
    assert not any(isinstance(event, Turn) for event in events)
    assert events[2:] == [
        Hand.of("DEALER", cards("10H", "5S")),
        Hand.of("DEALER", cards("10H", "5S", "2C")),
        Result("WIN", 21, 17, "HIGHER"),
    ]
    with pytest.raises(NotNow):
        game_round.hit()


def test_reaching_21_by_hitting_ends_the_turn():
    game_round = Round(stacked("5S", "10H", "6D", "8S", "QC"))
    game_round.deal()
    events = game_round.hit()
    assert events[0] == Hand.of("PLAYER", cards("5S", "6D", "QC"))
    assert events[1] == Hand.of("DEALER", cards("10H", "8S"))
    assert events[-1] == Result("WIN", 21, 18, "HIGHER")


def test_a_bust_reveals_the_hole_card_and_the_dealer_does_not_draw():
    game_round = Round(stacked("10S", "2H", "6D", "3S", "KC"))
    game_round.deal()
    assert game_round.hit() == [
        Hand.of("PLAYER", cards("10S", "6D", "KC")),
        Hand.of("DEALER", cards("2H", "3S")),
        Result("LOSE", 26, 5, "BUST"),
    ]


def test_the_dealer_stands_on_soft_17_and_draws_on_16():
    soft = Round(stacked("10S", "AH", "9D", "6S"))
    soft.deal()
    assert soft.stand() == [
        Hand.of("DEALER", cards("AH", "6S")),
        Result("WIN", 19, 17, "HIGHER"),
    ]
    sixteen = Round(stacked("10S", "10H", "9D", "6S", "AC"))
    sixteen.deal()
    assert sixteen.stand()[-2:] == [
        Hand.of("DEALER", cards("10H", "6S", "AC")),
        Result("WIN", 19, 17, "HIGHER"),
    ]


def test_a_deck_with_a_card_twice_is_refused():
    with pytest.raises(ValueError):
        Round(cards("AS", "AS", "2C", "3D"))


@settings(max_examples=300)
@given(st.permutations(FULL_DECK), st.lists(st.booleans(), max_size=12))
def test_any_round_keeps_the_rules(deck, hits):
    """Any deck, any player: totals, the dealer's rule, the table, no card twice."""
    game_round = Round(deck)
    events = game_round.deal()
    for hit in hits:
        if not game_round.players_turn:
            break
        events += game_round.hit() if hit else game_round.stand()
    if game_round.players_turn:
        events += game_round.stand()
    hands = [event for event in events if isinstance(event, Hand)]
    result = events[-1]
    assert isinstance(result, Result)
    assert sum(isinstance(event, Result) for event in events) == 1
    # Every card shown comes from the deck in dealing order, none twice.
    dealt = list(game_round.player) + list(game_round.dealer)
    assert len(set(dealt)) == len(dealt)
    assert set(dealt) == set(deck[: len(dealt)])
    for hand in hands:
        if hand.hidden:
            assert hand.total is None and hand.cards == (deck[1],)
        else:
            assert hand.total == best_total_oracle(list(hand.cards))
    # The hole card shows up only at the reveal.
    hole = deck[3]
    first_showing = next(i for i, hand in enumerate(hands) if hole in hand.cards)
    assert hands[first_showing].who == "DEALER"
    assert hands[first_showing].cards == (deck[1], hole)
    # The dealer's rule.
    player, dealer = hand_total(game_round.player), hand_total(game_round.dealer)
    if player > 21:
        assert len(game_round.dealer) == 2
    else:
        assert dealer >= 17
        assert all(
            hand_total(game_round.dealer[:n]) < 17
            for n in range(2, len(game_round.dealer))
        )
    # The player stops at 21 or over, or by standing; never hits past it.
    assert all(
        hand_total(game_round.player[:n]) < 21 for n in range(2, len(game_round.player))
    )
    assert (result.outcome, result.reason) == outcome_oracle(player, dealer)


# -- a game: the seat, the tally, the seed ----------------------------------------


def test_moves_at_the_wrong_time_are_refused_and_change_nothing():
    game = Game(random.Random(1))
    with pytest.raises(NotNow, match="DEAL"):
        game.hit()
    with pytest.raises(NotNow):
        game.stand()
    events = game.deal()
    if game.in_play:
        before = (list(game.round.player), list(game.round.dealer))
        with pytest.raises(NotNow, match="HIT or STAND"):
            game.deal()
        assert (game.round.player, game.round.dealer) == before
    assert game.score == Score()
    assert events


def play(game: Game, strategy: list[bool]) -> list:
    events = game.deal()
    moves = iter(strategy)
    while game.in_play:
        events += game.hit() if next(moves, False) else game.stand()
    return events


@given(st.integers(0, 2**32), st.lists(st.lists(st.booleans(), max_size=5), max_size=8))
def test_the_score_counts_every_result(seed, rounds):
    game = Game(random.Random(seed))
    results = []
    for strategy in rounds:
        events = play(game, strategy)
        assert isinstance(events[-1], Score) and isinstance(events[-2], Result)
        results.append(events[-2])
        assert events[-1] == game.score
    outcomes = [result.outcome for result in results]
    assert game.score == Score(
        outcomes.count("WIN"), outcomes.count("LOSE"), outcomes.count("PUSH")
    )


@given(st.integers(0, 2**32), st.lists(st.lists(st.booleans(), max_size=5), max_size=5))
def test_a_seed_deals_the_same_cards_for_the_same_commands(seed, rounds):
    first, second = Game(random.Random(seed)), Game(random.Random(seed))
    for strategy in rounds:
        assert play(first, strategy) == play(second, strategy)


def test_every_deal_shuffles_a_fresh_full_deck():
    rng = random.Random(5)
    decks = [shuffled_deck(rng) for _ in range(3)]
    for deck in decks:
        assert sorted(deck) == sorted(FULL_DECK)
    assert decks[0] != decks[1] != decks[2]


def test_different_seeds_deal_differently():
    deals = {
        tuple(map(str, Game(random.Random(seed)).deal()[1].cards)) for seed in range(20)
    }
    assert len(deals) > 10
