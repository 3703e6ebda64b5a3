"""Widgets for the lab: a Blackjack table, an echo console, a server monitor.

Each class owns its ipywidgets (``.widget`` is the root box) and displays as
it, so ``table`` alone in a cell shows the table. They reach servers only
through labkit's clients, over real sockets, wherever the server runs.

    Modules, one concern each:
    cards     Blackjack as HTML (pure functions, the page contract)
    style     the stylesheet every widget carries
    base      LabWidget: display, close
    connected ConnectedWidget: one connection, Reconnect that follows a
              server started again (or starts a stopped one again), a
              message instead of a traceback
    problems  errors -> one sentence saying what to do
    blackjack BlackjackTable
    tables    SharedTable (a seat at a version 2 table, or a watcher's view)
    echo      EchoConsole
    monitor   ServerMonitor

The words of Blackjack (cards, hands, results) are labkit.blackjack.words,
shared with the terminal client.
"""

from __future__ import annotations

from .base import LabWidget
from .blackjack import BlackjackTable
from .connected import ConnectedWidget
from .echo import EchoConsole
from .monitor import ServerMonitor
from .tables import SharedTable

__all__ = [
    "BlackjackTable",
    "ConnectedWidget",
    "EchoConsole",
    "LabWidget",
    "ServerMonitor",
    "SharedTable",
]
