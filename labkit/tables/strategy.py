"""A simple player for a :class:`~labkit.tables.client.TableClient`.

``play(client, hands)`` bets on every ``BETTING``, insures when offered
(the window then closes as soon as every player has insured, rather than
after the whole turn time), hits below ``stand_on`` and stands otherwise,
until ``hands`` more hands have been settled at the table. Several of
them in threads make a busy table in one notebook
(notebooks/11-tables.ipynb); nothing here is the best play, only a
steady one.
"""

from __future__ import annotations

from .client import ServerRefused, TableClient
from .view import TableState


def play(
    client: TableClient,
    hands: int = 1,
    *,
    bet: int = 10,
    stand_on: int = 17,
    timeout: float = 60.0,
) -> TableState:
    """Play until ``hands`` more hands are settled; the state then.

    A refused move (a turn that ran out just before it, say) is skipped:
    the next line tells what to do. A hand that went on without this
    player (no bet in time) still counts: the table settled it.
    """
    goal = client.state.hands_settled + hands

    def my_move(state: TableState) -> bool:
        return bool(state.my_actions) or state.hands_settled >= goal

    while True:
        state = client.wait_for(my_move, timeout)
        if state.hands_settled >= goal:
            return state
        try:
            if "BET" in state.my_actions:
                client.bet(bet)
            elif "INSURE" in state.my_actions:
                client.insure()
            else:
                hand = state.me.hands[state.turn[1]]  # type: ignore[union-attr,index]
                if hand.total < stand_on:
                    client.hit()
                else:
                    client.stand()
        except ServerRefused:
            continue
