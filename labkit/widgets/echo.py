"""EchoConsole: type a line, press Enter (or Send), see what went and came back.

    console = EchoConsole(labkit.serve("echo"))
    console                                  # shows it
    console.send("hello")                    # what Enter does, from a cell

Enter: ``on_submit`` is deprecated in ipywidgets 8; the replacement is a
Text with ``continuous_update=False`` whose ``value`` is observed. The value
then reaches the kernel on Enter, and also when the box loses focus, so a
line typed and left is sent too. The box is emptied after each send, so
sending the same line twice is two changes of ``value``.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

from ..addresses import resolve_address
from ..clients import DEFAULT_TIMEOUT, LineClient
from .base import LabWidget
from .problems import explain
from .style import stylesheet, transcript_html

LOG_LINES = 200  # shown; older lines scroll away


class EchoConsole(LabWidget):
    """A line client for the echo service, as a widget."""

    def __init__(
        self, target, port: int | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__()
        self.address = resolve_address(target, port)
        self.timeout = timeout
        self.client: LineClient | None = None
        self.log: list[tuple[str, str]] = []  # ("C", sent) and ("S", received)
        self.message = ""
        self._build()
        self._connect()

    @property
    def connected(self) -> bool:
        return self.client is not None

    def send(self, text: str) -> str | None:
        """Send one line and read its echo; returns it, or None on failure."""
        self.message = ""
        if self.client is None:
            self.message = "Not connected: click Reconnect."
            self._redraw()
            return None
        try:
            self.client.send_line(text)
            self.log.append(("C", text))
            reply = self.client.read_line()
        except (UnicodeEncodeError, ValueError) as error:
            # a user's mistake, not the server's: the connection is fine
            self.message = f"Cannot send that line: {error}. Lines are ASCII text."
            reply = None
        except Exception as error:
            problem = explain(error, self.address)
            self.message = problem.message
            if problem.connection_lost:
                self._disconnect()
            reply = None
        else:
            self.log.append(("S", reply))
        self._redraw()
        return reply

    def reconnect(self) -> bool:
        self._disconnect()
        return self._connect()

    def __str__(self) -> str:
        lines = [f"{who}: {text}" for who, text in self.log[-LOG_LINES:]]
        state = "connected" if self.connected else "not connected"
        lines.insert(0, f"echo console, {state}; {len(self.log)} lines in the log")
        if self.message:
            lines.append(f"note: {self.message}")
        return "\n".join(lines)

    def _connect(self) -> bool:
        try:
            self.client = LineClient(self.address, timeout=self.timeout)
        except Exception as error:
            self.client = None
            self.message = explain(error, self.address).message
        else:
            self.message = ""
        self._redraw()
        return self.connected

    def _disconnect(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _submitted(self, change: dict) -> None:
        text = change["new"]
        if text:  # emptying the box below comes back here with ""
            self.input.value = ""
            self.send(text)

    def _build(self) -> None:
        own = self._own
        title = own(widgets.HTML('<span class="labkit-widget-title">Echo</span>'))
        self.input = own(
            widgets.Text(
                placeholder="type a line, press Enter",
                continuous_update=False,
            )
        )
        self.input.layout.flex = "1"
        self.input.add_class("labkit-echo-input")
        self.input.observe(self._submitted, "value")
        self.send_button = own(
            widgets.Button(description="Send", button_style="primary")
        )
        self.send_button.layout.width = "auto"
        self.send_button.add_class("labkit-echo-send")
        # In a browser the box's value arrives (on blur) before the click, and
        # _submitted has sent it already: an empty box here is that case.
        self.send_button.on_click(
            lambda b: self.send(self.input.value) if self.input.value else None
        )
        self.reconnect_button = own(widgets.Button(description="Reconnect"))
        self.reconnect_button.layout.width = "auto"
        self.reconnect_button.add_class("labkit-echo-reconnect")
        self.reconnect_button.on_click(lambda b: self.reconnect())
        self.log_html = own(widgets.HTML(""))
        self.log_html.add_class("labkit-echo-log")
        self.message_html = own(widgets.HTML(""))
        self.message_html.add_class("labkit-echo-message")
        row = own(widgets.HBox([self.input, self.send_button, self.reconnect_button]))
        self.widget = own(
            widgets.VBox(
                [own(stylesheet()), title, row, self.log_html, self.message_html]
            )
        )
        self.widget.add_class("labkit-echo")

    def _redraw(self) -> None:
        self.log_html.value = transcript_html(
            self.log[-LOG_LINES:], {"C": "sent", "S": "back"}, "(nothing sent yet)"
        )
        self.message_html.value = (
            f'<div class="labkit-message">{escape(self.message)}</div>'
            if self.message
            else ""
        )
        self.message_html.layout.display = None if self.message else "none"
        self.input.disabled = self.send_button.disabled = not self.connected

    def _release(self) -> None:
        self._disconnect()
