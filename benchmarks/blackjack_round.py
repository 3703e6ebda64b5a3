"""What a Blackjack round costs in memory, and whether Card.points's cache pays.

    .venv/bin/python benchmarks/blackjack_round.py [--rounds N] [--repeats N]

One :class:`~labkit.services.blackjack.BlackjackSession` plays rounds from
bytes to bytes (DEAL, a HIT every other round, STAND), no sockets: the
session's share of a round's cost on a server. It runs twice, alternated:
with :attr:`Card.points` cached as it ships, and as a plain property, the
way the rules read without the cache; the difference is the cache's worth.
The figure is microseconds per round, the median over repeats. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import cached_property

from labkit.blackjack.game import Card
from labkit.services.blackjack import BlackjackSession


def play(rounds: int) -> float:
    """Seconds per round for one session playing ``rounds`` rounds."""
    session = BlackjackSession("bench", seed=7)
    session.connection_made()
    session.data_to_send()
    began = time.perf_counter()
    for number in range(rounds):
        session.data_received(b"DEAL\n")
        sent = session.data_to_send()
        if b"TURN" in sent and number % 2:
            session.data_received(b"HIT\n")
            sent = session.data_to_send()
        if b"TURN" in sent:
            session.data_received(b"STAND\n")
            session.data_to_send()
    return (time.perf_counter() - began) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    shipped = Card.__dict__["points"]
    if not isinstance(shipped, cached_property):
        parser.exit(1, "Card.points is not cached: nothing to compare\n")
    plain = property(shipped.func)
    variants = {"cached (as shipped)": shipped, "plain property": plain}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, points in variants.items():  # alternated: drift hits both
            Card.points = points
            seconds[name].append(play(args.rounds))
    Card.points = shipped
    for name, values in seconds.items():
        print(f"Card.points {name:20} {statistics.median(values) * 1e6:6.1f} us/round")


if __name__ == "__main__":
    main()
