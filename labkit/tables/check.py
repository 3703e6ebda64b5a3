"""The invariants of docs/protocol.md's tables section, on one connection's lines.

Feed a :class:`TableChecker` every line one connection received from a
table, in order (table lines, the ``STATE`` snapshot, answers to its own
commands). It follows the table as a suspicious player would, from the
wire alone, and raises ProtocolError quoting the first line that breaks a
promise:

- every total is the best value of its cards (version 1's rule);
- between two ``SHUFFLE`` lines no card is dealt more often than the shoe
  has decks;
- each hand's turn comes once, in seat order then hand order;
- the dealer draws below 17 (and on a soft 17 under H17), stops otherwise,
  and draws nothing when every hand is bust or a blackjack;
- each ``PAYOUT`` is the settle table applied to the hand and the dealer's
  cards; each ``INSURANCE`` pays 2 to 1 exactly when the dealer has a
  blackjack;
- the chips a ``CHIPS`` line announces after a hand are the chips before
  it plus that seat's nets (or, for a player who was below the minimum bet,
  a rebuy to the starting stack plus the nets: a rebuy is told only to the
  player, so another connection cannot see it happen).

"Every connection receives the table lines in the same order" is a
property of several connections together; compare their transcripts.
"""

from __future__ import annotations

from collections import Counter

from ..blackjack.game import Card, hand_total
from ..errors import ProtocolError
from .rules import (
    PlayerHand,
    Rules,
    dealer_draws,
    insurance_stake,
    is_natural,
    settle,
)

Key = tuple[int, int]  # (seat, hand)


def _key(text: str) -> Key:
    seat, _, hand = text.partition(":")
    return int(seat), int(hand)


class TableChecker:
    """One connection's view of one table, checked line by line."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.chips: dict[int, int] = {}  # seat -> chips as last announced
        self.dealt: Counter[Card] = Counter()  # since the last SHUFFLE
        self.in_state = False  # between STATE BEGIN and STATE END
        self._new_round()

    def _new_round(self) -> None:
        self.seen: Counter[Card] = Counter()  # the most of each card on the table
        self.hands: dict[Key, tuple[int, list[Card]]] = {}  # bet and cards
        self.dealer: list[Card] = []
        self.revealed = False
        self.dealer_before_draws: list[Card] = []
        self.bets: dict[int, int] = {}
        self.turns: list[Key] = []
        self.nets: Counter[int] = Counter()
        self.chips_told: set[int] = set()
        self.settling = False
        self.whole = True  # seen from the deal; False when joined mid-hand

    def received(self, line: str) -> None:
        keyword, *words = line.split()
        handler = getattr(self, "_" + keyword.lower(), None)
        if handler is None:
            return  # SEATED, STATE, ERROR, ...: not the table's invariants
        try:
            handler(words)
        except ProtocolError:
            raise
        except (ValueError, IndexError, KeyError) as error:
            raise ProtocolError(f"malformed or unexpected ({error})", line) from None
        except AssertionError as error:
            raise ProtocolError(str(error), line) from None

    # -- cards ----------------------------------------------------------------

    def _cards_shown(self, cards: list[Card]) -> None:
        """Count the cards that are new on the table since the last look."""
        now = self.seen | Counter(cards)
        for card, count in (now - self.seen).items():
            self.dealt[card] += count
            assert self.dealt[card] <= self.rules.decks, (
                f"{card} dealt more than {self.rules.decks} times in one shoe"
            )
        self.seen = now

    def _all_cards(self) -> list[Card]:
        cards = list(self.dealer)
        for _, hand in self.hands.values():
            cards += hand
        return cards

    def _shuffle(self, words: list[str]) -> None:
        assert int(words[0]) == self.rules.decks, "SHUFFLE names the shoe's decks"
        self.dealt = Counter()
        self.seen = Counter(self._all_cards())  # on the table: not dealt again

    def _hand(self, words: list[str]) -> None:
        if words[0] == "DEALER":
            self._dealer(words[1:])
            return
        key, bet, total = _key(words[0]), int(words[1]), int(words[2])
        cards = [Card.parse(word) for word in words[3:]]
        assert total == hand_total(cards), "the total is the best value of the cards"
        self.hands[key] = (bet, cards)
        self._cards_shown(cards)

    def _dealer(self, words: list[str]) -> None:
        if words[0] == "?":
            if self.revealed or self.settling:
                self._end_round()
            self.dealer = [Card.parse(words[1])]
            self.whole = not self.in_state  # a mid-hand snapshot misses nets
            self._cards_shown(self.dealer)
            return
        cards = [Card.parse(word) for word in words[1:]]
        assert int(words[0]) == hand_total(cards), "the dealer's total is right"
        if self.revealed:
            assert dealer_draws(self.dealer, self.rules.h17), (
                f"the dealer drew on {hand_total(self.dealer)}"
            )
            assert not self._dealer_need_not_draw(), "no dealer card is needed"
        self.dealer, self.revealed = cards, True
        self._cards_shown(cards)

    def _dealer_need_not_draw(self) -> bool:
        """Every hand is bust or a blackjack: the dealer's cards change nothing."""
        return all(
            self._played(key).bust or self._played(key).blackjack for key in self.hands
        )

    def _played(self, key: Key) -> PlayerHand:
        bet, cards = self.hands[key]
        split = any(seat == key[0] and hand > 1 for seat, hand in self.hands)
        return PlayerHand(bet=bet, cards=cards, split=split)

    # -- turns, bets, settlement ---------------------------------------------

    def _bet(self, words: list[str]) -> None:
        self.bets[int(words[0])] = int(words[1])

    def _turn(self, words: list[str]) -> None:
        key = _key(words[0])
        if key == (0, 0) or (self.turns and self.turns[-1] == key):
            return  # the insurance window, or the same hand after a HIT
        assert key not in self.turns, f"hand {words[0]} has had its turn"
        assert not self.turns or key > self.turns[-1], "turns go in seat order"
        self.turns.append(key)

    def _insurance(self, words: list[str]) -> None:
        seat, net = int(words[0]), int(words[1])
        stake = insurance_stake(self.bets[seat])
        dealer_blackjack = self.revealed and is_natural(self.dealer)
        expected = 2 * stake if dealer_blackjack else -stake
        assert net == expected, f"insurance of {stake} nets {expected}"
        self.nets[seat] += net

    def _payout(self, words: list[str]) -> None:
        if not self.settling:
            self.settling = True
            stands = not dealer_draws(self.dealer, self.rules.h17)
            assert stands or self._dealer_need_not_draw() or is_natural(self.dealer), (
                f"the dealer stopped at {hand_total(self.dealer)}"
            )
            if self._dealer_need_not_draw():
                assert len(self.dealer) == 2, "the dealer drew for nothing"
        key = _key(words[0])
        outcome, net, reason = words[1], int(words[2]), words[3]
        payout = settle(self._played(key), self.dealer)
        assert (outcome, net, reason) == (payout.outcome, payout.net, payout.reason), (
            f"the settle table says {payout.outcome} {payout.net} {payout.reason}"
        )
        self.nets[key[0]] += net

    def _chips(self, words: list[str]) -> None:
        seat, chips = int(words[0]), int(words[1])
        before = self.chips.get(seat)
        if self.settling and not self.whole:
            pass  # nets made before this connection came are unknown to it
        elif self.settling:
            net = self.nets[seat]
            assert net, "CHIPS after a hand only for chips that changed"
            if before is not None:
                rebought = (
                    before < self.rules.min_bet and chips == self.rules.stack + net
                )
                assert chips == before + net or rebought, (
                    f"{before} chips and a net of {net} make {before + net}"
                )
            self.chips_told.add(seat)
        elif before is not None:  # the answer to CHIPS or REBUY
            rebuy = before < self.rules.min_bet and chips == self.rules.stack
            assert chips == before or rebuy, f"seat {seat} had {before} chips"
        assert chips >= 0, "chips are never negative"
        self.chips[seat] = chips

    def _state(self, words: list[str]) -> None:
        self.in_state = words[0] == "BEGIN"

    def _seat(self, words: list[str]) -> None:
        self.chips[int(words[0])] = int(words[2])

    def _empty(self, words: list[str]) -> None:
        self.chips.pop(int(words[0]), None)

    def _betting(self, words: list[str]) -> None:
        if self.dealer:
            self._end_round()

    def _end_round(self) -> None:
        for seat, net in self.nets.items():
            assert not net or seat in self.chips_told or not self.whole, (
                f"no CHIPS line for seat {seat}"
            )
        self._new_round()
