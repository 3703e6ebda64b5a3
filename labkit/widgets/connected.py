"""ConnectedWidget: a widget that holds one connection to a server.

What the Blackjack table and the echo console share: connect on creation,
Reconnect, disconnect on close, and a message in words (never a traceback)
when the server is not there or misbehaves.

Which server Reconnect dials:

- Given a server handle (``labkit.serve(...)``), the widget follows it. A cell
  run again starts a new server on a new free port under the same name and
  stops the old one; Reconnect dials the new one
  (:func:`labkit.background.current`).
- Given an address, ``(host, port)`` or a host and a port, it dials that.

When the server is gone the message ends with the one step that brings the
table back (:meth:`ConnectedWidget.next_step`), and that step works: it is
"click Reconnect" when a server runs to reconnect to, and also when the
server, started by ``labkit.serve``, was stopped and nothing replaced it:
Reconnect then starts it again as its cell did (the same service, transport
and options, on the same port if it is free), so a notebook can stop its
servers in its last cell and its widgets still work after Run All.

Subclasses open their client in ``_open``, draw in ``_redraw``, and may keep
what the old connection showed in ``_closing``. Connecting, sending and
reading block; they run in click handlers, on the kernel's main thread, and
every one has the widget's ``timeout``.
"""

from __future__ import annotations

from html import escape
from typing import Generic, Protocol, TypeVar

import ipywidgets as widgets

from ..addresses import format_address, resolve_address
from ..background import current, restart, restartable
from ..clients import DEFAULT_TIMEOUT
from ..learner import LearnerServer
from ..transports.base import Server
from .base import LabWidget
from .problems import RECONNECT, explain

RUN_THE_CELL_AGAIN = "Run the cell that starts the server again, then click Reconnect."
START_IT_AGAIN = "Click Reconnect to start the server again and connect."


class Client(Protocol):
    """What the base needs of a client; the subclass uses the rest."""

    def close(self) -> None: ...


C = TypeVar("C", bound=Client)


class ConnectedWidget(LabWidget, Generic[C]):
    """Base class: one connection (``client``), Reconnect, and a ``message``."""

    def __init__(
        self, target, port: int | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__()
        # the handle followed, if given one: labkit's server or the learner's
        self.server: Server | LearnerServer | None = None
        self.address: tuple[str, int] = ("", 0)
        self._aim(target, port)
        self.timeout = timeout
        self.client: C | None = None
        self.message = ""  # what went wrong last, in words; "" when all is well

    # -- for cells -----------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.client is not None

    def reconnect(self, target=None, port: int | None = None) -> bool:
        """Drop the connection and open a new one; True once connected.

        ``target`` (a server handle, or an address) changes where the widget
        connects. Without one it follows the server it was given, to the
        server now running in its place, or starts that server again if it
        was stopped and nothing replaced it. The old connection closes
        first: an iterative server serves one connection at a time.
        """
        if target is not None:
            self._aim(target, port)
        self._disconnect()
        return self._connect()

    def next_step(self) -> str:
        """The one thing to do to play on, as the messages say it."""
        if self.server is not None:
            server = current(self.server)
            if server.running:
                if server is self.server:
                    return RECONNECT
                where = format_address(*server.address)
                return f"A new server runs on {where}: click Reconnect."
            if restartable(server):
                return START_IT_AGAIN
            if getattr(server, "name", None):  # started by labkit.serve
                return RUN_THE_CELL_AGAIN
        where = format_address(*self.address)
        return f"Start a server on {where} again, then click Reconnect."

    # -- for subclasses ----------------------------------------------------

    def _aim(self, target, port: int | None) -> None:
        """Connect to ``target`` from now on; follow it if it is a server handle."""
        handle = port is None and isinstance(target, (Server, LearnerServer))
        self.server = target if handle else None
        self.address = resolve_address(target, port)

    def _open(self, address: tuple[str, int]) -> C:
        """A new client connected to ``address``, or an exception."""
        raise NotImplementedError

    def _opened(self) -> None:
        """A new connection is open: forget what the last one showed."""

    def _closing(self, client: C) -> None:
        """``client`` is about to close: keep what it showed, if the widget shows it."""

    def _redraw(self) -> None:
        raise NotImplementedError

    def _connect(self) -> bool:
        """Open a connection to the server followed; on failure say why.

        A failure leaves everything shown as it was (the hands, the
        transcript): it is the learner's record of what happened.
        """
        try:
            if self.server is not None:
                self.server = current(self.server)
                if restartable(self.server):
                    self.server = restart(self.server)
                self.address = self.server.address
            self.client = self._open(self.address)
        except Exception as error:
            self.client = None
            self._explain(error)
        else:
            self.message = ""
            self._opened()
        self._redraw()
        return self.connected

    def _disconnect(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            self._closing(client)
            client.close()

    def _explain(self, error: BaseException) -> None:
        """Put ``error`` in words; drop a connection it has made useless."""
        problem = explain(error, self.address, self.next_step())
        self.message = problem.message
        if problem.connection_lost:
            self._disconnect()

    def _release(self) -> None:
        self._disconnect()

    # -- widgets both kinds show -------------------------------------------

    def _reconnect_button(self, css: str) -> widgets.Button:
        button = self._own(
            widgets.Button(description="Reconnect", tooltip="open a new connection")
        )
        button.layout.width = "auto"
        button.add_class(css)
        button.on_click(lambda b: self.reconnect())
        return button

    def _message_area(self, css: str) -> widgets.HTML:
        area = self._own(widgets.HTML(""))
        area.add_class(css)
        return area

    def _show_message(self, area: widgets.HTML) -> None:
        area.value = (
            f'<div class="labkit-message">{escape(self.message)}</div>'
            if self.message
            else ""
        )
        area.layout.display = None if self.message else "none"
