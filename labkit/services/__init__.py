"""The services the lab serves, by name: each one a session class."""

from __future__ import annotations

from ..session import Session
from .blackjack import BlackjackSession
from .echo import EchoSession
from .hello import HelloSession

SESSIONS: dict[str, type[Session]] = {
    "hello": HelloSession,
    "echo": EchoSession,
    "blackjack": BlackjackSession,
}

__all__ = ["SESSIONS", "EchoSession", "HelloSession"]
