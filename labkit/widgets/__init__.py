"""Widgets for the lab: a Blackjack table, an echo console, a server monitor.

Each class owns its ipywidgets (``.widget`` is the root box) and displays as
it, so ``table`` alone in a cell shows the table. They reach servers only
through labkit's clients, over real sockets, wherever the server runs.

    Modules, one concern each:
    cards     Blackjack as HTML (pure functions, the page contract)
    style     the stylesheet every widget carries
    base      LabWidget: display, close
    problems  errors -> one sentence saying what to do
    blackjack BlackjackTable
    echo      EchoConsole
    monitor   ServerMonitor
"""

from __future__ import annotations

from .base import LabWidget
from .blackjack import BlackjackTable
from .echo import EchoConsole
from .monitor import ServerMonitor

__all__ = ["BlackjackTable", "EchoConsole", "LabWidget", "ServerMonitor"]
