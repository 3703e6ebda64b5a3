"""The services the lab serves, each one a session class (``labkit.servers``
pairs them with transports)."""

from __future__ import annotations

from .blackjack import BlackjackSession
from .echo import EchoSession
from .hello import HelloSession

__all__ = ["BlackjackSession", "EchoSession", "HelloSession"]
