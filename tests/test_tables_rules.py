"""Blackjack version 2's rules without a table: the shoe, the dealer, settling.

Each oracle here is written from docs/protocol.md's words ("tables:
Blackjack version 2"), not from labkit's code, so the two can disagree.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.blackjack.game import FULL_DECK, Card
from labkit.tables.rules import (
    MAX_HANDS,
    PlayerHand,
    Rules,
    dealer_draws,
    dealer_peeks,
    insurance_net,
    insurance_stake,
    is_natural,
    is_soft,
    settle,
)
from labkit.tables.shoe import Shoe, ShoeEmpty

pytestmark = pytest.mark.timeout(60)

cards_st = st.sampled_from(FULL_DECK)
hands_st = st.lists(cards_st, min_size=2, max_size=8)


def cards(*texts: str) -> list[Card]:
    return [Card.parse(text) for text in texts]


def totals(hand: list[Card]) -> set[int]:
    """Every value the hand can be counted at, each ace as 1 or 11."""
    base = sum(card.points for card in hand if card.rank != "A")
    aces = sum(card.rank == "A" for card in hand)
    return {base + sum(v) for v in itertools.product((1, 11), repeat=aces)}


def best(hand: list[Card]) -> int:
    under = [total for total in totals(hand) if total <= 21]
    return max(under) if under else min(totals(hand))


def soft(hand: list[Card]) -> bool:
    """An ace counts 11 in the best total: the best is not the all-ones count."""
    return best(hand) != min(totals(hand))


# -- the shoe ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    decks=st.integers(1, 8),
    seed=st.integers(0, 2**32),
    steps=st.lists(st.integers(0, 50), max_size=30),  # a hand holds < 52 cards
)
def test_a_card_is_dealt_at_most_once_per_deck_between_shuffles(decks, seed, steps):
    """Draw in bursts; shuffle when the table would (before a hand past the
    cut, or when empty, keeping the table's cards out): no card comes out
    more often than the shoe has decks between two shuffles."""
    shoe = Shoe(decks, random.Random(seed))
    assert shoe.needs_shuffle, "a new shoe is shuffled before its first hand"
    on_table: list[Card] = []
    dealt: Counter[Card] = Counter()
    for burst in steps:
        if shoe.needs_shuffle:
            shoe.shuffle()
            dealt = Counter()
        on_table = []  # a new hand: the last one's cards are discards
        for _ in range(burst):
            try:
                card = shoe.draw()
            except ShoeEmpty:
                shoe.shuffle(keep_out=on_table)
                dealt = Counter(on_table)
                card = shoe.draw()
            on_table.append(card)
            dealt[card] += 1
            assert dealt[card] <= decks, f"{card} dealt {dealt[card]} times"


@pytest.mark.parametrize("decks", [1, 2, 6, 8])
def test_the_cut_comes_after_three_quarters_of_the_shoe(decks):
    shoe = Shoe(decks, random.Random(1))
    shoe.shuffle()
    assert shoe.remaining == 52 * decks and not shoe.needs_shuffle
    cut = 52 * decks * 3 // 4 + (52 * decks * 3 % 4 > 0)  # 75%, rounded up
    for _ in range(cut - 1):
        shoe.draw()
    assert not shoe.needs_shuffle, "one card before the cut"
    shoe.draw()
    assert shoe.needs_shuffle, "75% dealt: shuffle before the next hand"


def test_a_shoe_holds_every_card_once_per_deck_and_a_seed_repeats_it():
    one, two = Shoe(6, random.Random(7)), Shoe(6, random.Random(7))
    one.shuffle()
    two.shuffle()
    first = [one.draw() for _ in range(312)]
    assert first == [two.draw() for _ in range(312)], "the same seed, the same shoe"
    assert Counter(first) == Counter(FULL_DECK * 6)
    with pytest.raises(ShoeEmpty):
        one.draw()


def test_keep_out_leaves_the_cards_on_the_table_out_of_the_new_shoe():
    shoe = Shoe(1, random.Random(2))
    shoe.shuffle(keep_out=cards("AS", "AS", "10H"))  # a second AS is not there
    rest = [shoe.draw() for _ in range(shoe.remaining)]
    assert Card.parse("AS") not in rest and Card.parse("10H") not in rest
    assert len(rest) == 50


def test_put_on_top_deals_in_the_order_given_and_keeps_the_shoe_whole():
    shoe = Shoe(1, random.Random(3))
    shoe.shuffle()
    shoe.put_on_top(cards("8S", "8D", "AH"))
    assert [shoe.draw() for _ in range(3)] == cards("8S", "8D", "AH")
    rest = [shoe.draw() for _ in range(49)]
    assert Counter(rest) + Counter(cards("8S", "8D", "AH")) == Counter(FULL_DECK)
    with pytest.raises(ValueError):
        shoe.put_on_top(cards("2C"))  # the shoe is empty: there is no 2C to move


# -- the dealer ---------------------------------------------------------------


@given(hands_st)
def test_soft_means_an_ace_counted_eleven(hand):
    assert is_soft(hand) == soft(hand)


@given(hands_st, st.booleans())
def test_the_dealers_draw_rule_s17_and_h17(hand, h17):
    total = best(hand)
    expected = total < 17 or (h17 and total == 17 and soft(hand))
    assert dealer_draws(hand, h17) == expected


@settings(max_examples=200)
@given(seed=st.integers(0, 2**32), h17=st.booleans())
def test_a_dealer_playing_out_a_hand_stops_where_the_rule_says(seed, h17):
    shoe = Shoe(1, random.Random(seed))
    shoe.shuffle()
    dealer = [shoe.draw(), shoe.draw()]
    while dealer_draws(dealer, h17):
        assert best(dealer) < 17 or (h17 and best(dealer) == 17 and soft(dealer))
        dealer.append(shoe.draw())
    assert best(dealer) >= 17
    if h17:
        assert not (best(dealer) == 17 and soft(dealer)), "H17 hits a soft 17"


def test_s17_stands_and_h17_hits_on_ace_six():
    assert not dealer_draws(cards("AS", "6D"), h17=False)
    assert dealer_draws(cards("AS", "6D"), h17=True)
    assert not dealer_draws(cards("10S", "7D"), h17=True), "a hard 17 stands"
    assert not dealer_draws(cards("AS", "6D", "10C"), h17=True), "A 6 10: hard 17"


@pytest.mark.parametrize(
    ("upcard", "peeks"),
    [("AS", True), ("10H", True), ("KD", True), ("QC", True), ("JS", True)]
    + [(rank + "H", False) for rank in "23456789"],
)
def test_the_dealer_peeks_under_an_ace_or_a_ten(upcard, peeks):
    assert dealer_peeks(Card.parse(upcard)) is peeks


# -- insurance and settling ---------------------------------------------------


@given(bet=st.integers(1, 10_000), dealer_blackjack=st.booleans())
def test_insurance_is_half_the_bet_and_pays_two_to_one(bet, dealer_blackjack):
    stake = insurance_stake(bet)
    assert stake == bet // 2
    net = insurance_net(stake, dealer_blackjack)
    assert net == (2 * stake if dealer_blackjack else -stake)


def settle_oracle(
    hand: list[Card], split: bool, bet: int, dealer: list[Card]
) -> tuple[str, int, str]:
    """docs/protocol.md's step 6 and step 3, sentence by sentence."""
    player_bj = len(hand) == 2 and best(hand) == 21 and not split
    dealer_bj = len(dealer) == 2 and best(dealer) == 21
    if best(hand) > 21:
        return "LOSE", -bet, "BUST"
    if player_bj and dealer_bj:
        return "PUSH", 0, "EQUAL"  # "a player's blackjack pushes"
    if player_bj:
        return "BLACKJACK", bet * 3 // 2, "BLACKJACK"
    if dealer_bj:
        return "LOSE", -bet, "DEALER-BLACKJACK"
    if best(dealer) > 21:
        return "WIN", bet, "DEALER-BUST"
    if best(hand) > best(dealer):
        return "WIN", bet, "HIGHER"
    if best(hand) < best(dealer):
        return "LOSE", -bet, "LOWER"
    return "PUSH", 0, "EQUAL"


@settings(max_examples=500)
@given(
    hand=hands_st,
    dealer=hands_st,
    split=st.booleans(),
    bet=st.integers(10, 500),
    doubled=st.booleans(),
)
def test_the_settle_table(hand, dealer, split, bet, doubled):
    """Splits, doubles (the hand's bet is already twice) and 3:2, row by row."""
    stake = bet * 2 if doubled else bet
    played = PlayerHand(bet=stake, cards=list(hand), split=split, doubled=doubled)
    payout = settle(played, dealer)
    assert (payout.outcome, payout.net, payout.reason) == settle_oracle(
        hand, split, stake, dealer
    )


@pytest.mark.parametrize(
    ("player", "split", "dealer", "expected"),
    [
        (("AS", "KD"), False, ("9C", "7H", "5D"), ("BLACKJACK", 15, "BLACKJACK")),
        (("AS", "KD"), True, ("9C", "7H", "5D"), ("PUSH", 0, "EQUAL")),
        (("AS", "KD"), False, ("AH", "QC"), ("PUSH", 0, "EQUAL")),
        (("7S", "7D", "7C"), False, ("AH", "QC"), ("LOSE", -10, "DEALER-BLACKJACK")),
        (("10S", "6D", "9C"), False, ("9C", "7H", "KD"), ("LOSE", -10, "BUST")),
        (("10S", "8D"), False, ("9C", "7H", "KD"), ("WIN", 10, "DEALER-BUST")),
    ],
)
def test_settle_examples(player, split, dealer, expected):
    """A 3:2 blackjack on 10 is 15; a split's 21 is only 21; a bust loses first."""
    hand = PlayerHand(bet=10, cards=cards(*player), split=split)
    payout = settle(hand, cards(*dealer))
    assert (payout.outcome, payout.net, payout.reason) == expected


@given(bet=st.integers(10, 501))
def test_three_to_two_rounds_down(bet):
    hand = PlayerHand(bet=bet, cards=cards("AS", "QH"))
    assert settle(hand, cards("10C", "9D")).net == bet * 3 // 2


def test_split_rules_on_a_hand():
    pair = PlayerHand(bet=10, cards=cards("8S", "8D"))
    assert pair.can_split(1) and pair.can_double()
    assert not pair.can_split(MAX_HANDS), "four hands at most"
    assert not PlayerHand(bet=10, cards=cards("10S", "KD")).can_split(1), "two ranks"
    assert not PlayerHand(bet=10, cards=cards("8S", "8D", "2C")).can_double()
    assert is_natural(cards("AS", "JD")) and not is_natural(cards("7S", "7D", "7C"))


def test_rules_refuse_nonsense():
    for bad in (
        {"min_bet": 0},
        {"min_bet": 20, "max_bet": 10},
        {"stack": 5},
        {"seats": 8},
        {"turn_seconds": 0},
    ):
        with pytest.raises(ValueError):
            Rules(**bad)
