"""What went wrong, in words a learner can act on, instead of a traceback.

A click handler that raises shows a traceback in the log console that most
learners never open, and the table just stops answering. So the widgets
catch what a server (or its absence) can cause and turn it into one
sentence saying what happened and the one step to take next.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..addresses import format_address
from ..blackjack.client import ServerRefused
from ..clients import ConnectionClosed, ProtocolError

# ERROR codes after which the server closes the connection.
CLOSING_CODES = ("BUSY", "IDLE-TIMEOUT")
RECONNECT = "Click Reconnect."


@dataclass(frozen=True)
class Problem:
    message: str
    connection_lost: bool  # the connection cannot be used again: Reconnect


def explain(
    error: BaseException, address: tuple[str, int], step: str = RECONNECT
) -> Problem:
    """The message for ``error`` on a connection to ``address``.

    ``step`` is what to do when the server is not there any more: the widget
    knows whether it can follow a server that replaced this one.
    """
    where = format_address(*address)
    if isinstance(error, ConnectionRefusedError):
        return Problem(
            f"Nothing listens on {where}: the server is not running. {step}", True
        )
    if isinstance(error, ServerRefused):
        if error.code == "BUSY":
            return Problem(
                f"The server at {where} is full ({error.text}). "
                "Click Reconnect to try again.",
                True,
            )
        if error.code in CLOSING_CODES:
            return Problem(
                f"The server closed the connection: {error.text}. "
                "Click Reconnect for a new one.",
                True,
            )
        return Problem(f"The server refused: {error.code} {error.text}", False)
    if isinstance(error, ProtocolError):
        return Problem(
            f"The server at {where} broke the protocol ({error}). This "
            "connection cannot go on; click Reconnect to start over.",
            True,
        )
    if isinstance(error, TimeoutError):
        return Problem(
            f"The server at {where} did not answer in time: it may be stuck or "
            "busy with another client. Click Reconnect to try again.",
            True,
        )
    if isinstance(error, (ConnectionClosed, ConnectionError)):
        return Problem(
            f"The connection to {where} is gone: the server was stopped or "
            f"closed it. {step}",
            True,
        )
    if isinstance(error, OSError):
        return Problem(f"Cannot reach {where}: {error}. Click Reconnect.", True)
    raise error  # a bug in labkit: let it show
