"""EchoConsole: type a line, press Enter (or Send), see what went and came back.

    console = EchoConsole(labkit.serve("echo"))
    console                                  # shows it
    console.send("hello")                    # what Enter does, from a cell

Enter: ``on_submit`` is deprecated in ipywidgets 8; the replacement is a
Text with ``continuous_update=False`` whose ``value`` is observed. The value
then reaches the kernel on Enter, and also when the box loses focus, so a
line typed and left is sent too. The box is emptied after each send, so
sending the same line twice is two changes of ``value``.

The log keeps every line of every connection; Reconnect follows a server
started again by its cell (:class:`~.connected.ConnectedWidget`).
"""

from __future__ import annotations

import ipywidgets as widgets

from ..clients import DEFAULT_TIMEOUT, LineClient
from .connected import ConnectedWidget
from .style import stylesheet, transcript_html

LOG_LINES = 200  # shown; older lines scroll away


class EchoConsole(ConnectedWidget[LineClient]):
    """A line client for the echo service, as a widget."""

    def __init__(
        self, target, port: int | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__(target, port, timeout=timeout)
        self.log: list[tuple[str, str]] = []  # ("C", sent) and ("S", received)
        self._build()
        self._connect()

    def send(self, text: str) -> str | None:
        """Send one line and read its echo; returns it, or None on failure."""
        self.message = ""
        if self.client is None:
            self.message = f"Not connected. {self.next_step()}"
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
            self._explain(error)
            reply = None
        else:
            self.log.append(("S", reply))
        self._redraw()
        return reply

    def __str__(self) -> str:
        lines = [f"{who}: {text}" for who, text in self.log[-LOG_LINES:]]
        state = "connected" if self.connected else "not connected"
        lines.insert(0, f"echo console, {state}; {len(self.log)} lines in the log")
        if self.message:
            lines.append(f"note: {self.message}")
        return "\n".join(lines)

    def _open(self, address: tuple[str, int]) -> LineClient:
        return LineClient(address, timeout=self.timeout)

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
        self.reconnect_button = self._reconnect_button("labkit-echo-reconnect")
        self.log_html = own(widgets.HTML(""))
        self.log_html.add_class("labkit-echo-log")
        self.message_html = self._message_area("labkit-echo-message")
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
        self._show_message(self.message_html)
        self.input.disabled = self.send_button.disabled = not self.connected
