"""ServerMonitor: a running server's counters and log, refreshed live.

    monitor = ServerMonitor(server)
    monitor                          # shows it; it refreshes by itself

A background thread (``labkit-monitor-...``) reads the server's ``stats``,
``log`` and ``errors`` every ``interval`` seconds and *only sets widget
values*: it never prints or displays, because output from a thread lands in
whichever cell happens to be running. The thread ends when the widget is
closed or the server stops (after showing the final numbers); ``close()``
joins it within a bounded time. The Stop button stops the server from the
click handler, on the kernel's main thread.

Like the widgets that connect, the monitor follows a server started by
``labkit.serve``: when its cell runs again, or a widget's Reconnect starts
it again, the monitor shows the new server and watches it with a new
thread. A stopped server that nothing replaced can be started again from
the monitor too: the Stop button then reads "Start again".
"""

from __future__ import annotations

import threading
from html import escape
from itertools import count

import ipywidgets as widgets

from ..addresses import format_address
from ..background import restart, restartable, when_started
from ..transports.base import STOP_TIMEOUT, Server
from .base import LabWidget
from .style import scrolling_lines, stylesheet

JOIN_TIMEOUT = 2.0
TILES = (
    ("open", "open now"),
    ("served", "served"),
    ("rejected", "turned away"),
    ("errors", "errors"),
)
_numbers = count(1)


class ServerMonitor(LabWidget):
    """Live counters and log lines of ``server``; see the module's docstring."""

    def __init__(
        self, server: Server, *, interval: float = 0.25, lines: int = 10
    ) -> None:
        super().__init__()
        self.server = server
        self.interval = interval
        self.lines = lines
        self.values: dict[str, object] = {}  # what the widget shows now
        self._lock = threading.Lock()  # the thread and a Stop click both refresh
        self._closing = threading.Event()
        self._watching = True  # a thread watches the server (under _lock)
        self._build()
        self.refresh()
        self._start_thread()
        when_started(self._started)

    def refresh(self) -> None:
        """Read the server once and set the widget values that changed."""
        server = self.server
        stats = server.stats
        with self._lock:
            values = {
                "running": server.running,
                "open": stats.open,
                "served": stats.accepted,
                "rejected": stats.rejected,
                "errors": stats.errors,
                "log": server.log[-self.lines :],
                "recent_errors": [str(error) for error in server.errors[-3:]],
            }
            if values == self.values:
                return
            self.values = values
            # Setting a trait only sends a message to the page if it changed.
            self.state_html.value = self._state(values["running"])
            self.tiles_html.value = _tiles(values)
            self.log_html.value = _log(values["log"], values["recent_errors"])
            running = values["running"]
            self.stop_button.description = "Stop server" if running else "Start again"
            self.stop_button.button_style = "danger" if running else "success"
            self.stop_button.disabled = not running and not restartable(server)

    def stop_server(self) -> bool:
        """What the Stop button does: stop the server, show the final numbers."""
        stopped = self.server.stop(STOP_TIMEOUT)
        self.refresh()
        return stopped

    def start_server(self) -> Server:
        """What the button does once the server is stopped: start it again
        as its cell did; the monitor follows the new server."""
        return restart(self.server)

    def _clicked(self) -> None:
        if self.server.running:
            self.stop_server()
        elif restartable(self.server):
            self.start_server()

    def __str__(self) -> str:
        server = self.server
        return f"ServerMonitor: {server.service} on the {server.transport} transport"

    def _state(self, running: bool) -> str:
        server = self.server
        where = escape(format_address(*server.address))
        state = (
            '<span class="labkit-state-running">running</span>'
            if running
            else '<span class="labkit-state-stopped">stopped</span>'
        )
        return (
            f'<span class="labkit-widget-title">{escape(server.service)}</span> '
            f"on {escape(server.transport)} at {where}: {state}"
        )

    def _start_thread(self) -> None:
        where = f"{self.server.service}-{self.server.port}"
        self.thread = threading.Thread(
            target=self._run,
            name=f"labkit-monitor-{where}-{next(_numbers)}",
            daemon=True,
        )
        self.thread.start()

    def _run(self) -> None:
        while not self._closing.wait(self.interval):
            self.refresh()
            with self._lock:
                if not self.server.running:
                    self._watching = False  # the numbers are final now
                    return

    def _started(self, server: Server) -> None:
        """``labkit.serve`` started ``server``: follow it if it takes the
        place of the one shown (the same name)."""
        name = getattr(self.server, "name", None)
        if self.closed or server is self.server or name is None:
            return
        if getattr(server, "name", None) != name:
            return
        with self._lock:
            self.server = server
            self.values = {}  # redraw all: another address, another log
            start = not self._watching
            self._watching = True
        self.refresh()
        if start:
            self._start_thread()

    def _build(self) -> None:
        own = self._own
        self.state_html = own(widgets.HTML(""))
        self.state_html.add_class("labkit-monitor-state")
        self.stop_button = own(
            widgets.Button(description="Stop server", button_style="danger")
        )
        self.stop_button.layout.width = "auto"
        self.stop_button.add_class("labkit-monitor-stop")
        self.stop_button.on_click(lambda b: self._clicked())
        self.tiles_html = own(widgets.HTML(""))
        self.tiles_html.add_class("labkit-monitor-tiles")
        self.log_html = own(widgets.HTML(""))
        self.log_html.add_class("labkit-monitor-log")
        header = own(widgets.HBox([self.state_html, self.stop_button]))
        header.layout.justify_content = "space-between"
        header.layout.align_items = "center"
        self.widget = own(
            widgets.VBox([own(stylesheet()), header, self.tiles_html, self.log_html])
        )
        self.widget.add_class("labkit-monitor")

    def _release(self) -> None:
        self._closing.set()
        if self.thread is not threading.current_thread():
            self.thread.join(JOIN_TIMEOUT)


def _tiles(values: dict) -> str:
    tiles = "".join(
        f'<div class="labkit-tile labkit-monitor-{key}" data-value="{values[key]}">'
        f'<span class="labkit-tile-value">{values[key]}</span>'
        f'<span class="labkit-tile-name">{name}</span></div>'
        for key, name in TILES
    )
    return f'<div class="labkit-tiles">{tiles}</div>'


def _log(lines: list[str], errors: list[str]) -> str:
    text = "\n".join(escape(line) for line in lines) or "(nothing logged yet)"
    if errors:
        text += "\n" + "\n".join(
            f'<span class="labkit-line-error">error: {escape(e)}</span>' for e in errors
        )
    return scrolling_lines(text)
