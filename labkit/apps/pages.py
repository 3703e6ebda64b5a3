"""The table app's two pages, as widgets: what play.ipynb and watch.ipynb show.

Voilà runs each notebook in a kernel of its own per page view; the notebook
calls :func:`play_page` or :func:`watch_page`, and the page is the widget
it returns. A student never sees code or a traceback: a server that does
not answer, a name that is taken or a full table become a sentence on the
page that says what to do, and the form stays to try again.

The page contract (stable; tests rely on it): the play page's root has
class ``labkit-app-play``; its name box ``labkit-app-name``, table picker
``labkit-app-table``, Join button ``labkit-app-join``, message
``labkit-app-message``. Once joined, the form hides and the
:class:`~labkit.widgets.SharedTable` (``labkit-tbl``) shows. The watch
page's root is ``labkit-app-watch``, holding a watcher's ``labkit-tbl``.
"""

from __future__ import annotations

import os
import re
from html import escape
from urllib.parse import parse_qs

import ipywidgets as widgets

from ..addresses import format_address
from ..tables.client import TableClient
from ..widgets import SharedTable
from . import SERVER_ENV

NAME = re.compile(r"[A-Za-z0-9_-]{1,16}")  # what the protocol accepts in NAME
TIMEOUT = 5.0  # seconds for each answer of the tables server
START_SERVER = (
    "Ask your instructor to start it (python -m labkit serve tables "
    "--host 0.0.0.0 --port {port}), then click Try again."
)

# Big enough to read from the back of a room: the watcher's table drawn
# larger (zoom keeps the layout, where a transform would overlap) and as
# wide as the screen, so the seats spread out. A watcher acts on nothing:
# only Reconnect stays, for a server started again.
WATCH_CSS = """
.labkit-app-watch .labkit-tbl { zoom: 1.6; width: calc(96vw / 1.6); }
.labkit-app-watch .labkit-tbl button:not(.labkit-tbl-reconnect) { display: none; }
.labkit-app-title { font-size: 18px; }
"""


def server_address(environ=os.environ) -> tuple[str, int]:
    """The tables server the app was started for, from ``LABKIT_TABLES_SERVER``."""
    text = environ.get(SERVER_ENV, "")
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"{SERVER_ENV} is {text!r}, not HOST:PORT: start the app with "
            "python -m labkit app --server HOST:PORT"
        )
    return host.strip("[]"), int(port)


def page_query() -> dict[str, str]:
    """The page's query string (``?table=2``) as a dict of its last values.

    Voilà puts it in the kernel's ``QUERY_STRING``. A preheated kernel runs
    the notebook before anyone asks for the page, so Voilà's own helper
    waits for the request there (and returns at once otherwise).
    """
    try:
        from voila.utils import get_query_string
    except ImportError:  # run outside Voilà (a test, a notebook)
        text = os.environ.get("QUERY_STRING", "")
    else:
        text = get_query_string() or ""
    return {key: values[-1] for key, values in parse_qs(text).items()}


def table_number(query: dict[str, str], default: int = 1) -> int:
    text = query.get("table", "")
    return int(text) if text.isdigit() and int(text) > 0 else default


def list_tables(address: tuple[str, int]) -> list[tuple[int, ...]]:
    """(id, seated, seats, min bet, max bet) of each table; OSError if unreachable."""
    with TableClient(address, timeout=TIMEOUT) as client:
        return client.tables()


def unreachable(address: tuple[str, int], error: BaseException) -> str:
    """Why the page cannot play, in words, and what to do about it."""
    where = format_address(*address)
    if isinstance(error, ConnectionRefusedError):
        why = "nothing listens there: the server is not running"
    elif isinstance(error, TimeoutError):
        why = "it did not answer in time"
    else:
        why = str(error) or type(error).__name__
    return f"The tables server at {where} cannot be reached: {why}. " + (
        START_SERVER.format(port=address[1])
    )


class PlayPage:
    """A name box, a table picker and Join; then the student's seat."""

    def __init__(self, address: tuple[str, int], *, table: int = 1) -> None:
        self.address = address
        self.table: SharedTable | None = None
        self.title = widgets.HTML("<h2>\u2660 Blackjack \u2665</h2>")
        self.name_box = widgets.Text(
            description="Your name", placeholder="1 to 16 of A-Z a-z 0-9 - _"
        )
        self.name_box.add_class("labkit-app-name")
        self.picker = widgets.Dropdown(
            description="Table", options=[(str(table), table)]
        )
        self.picker.add_class("labkit-app-table")
        self.picker.layout.width = "32em"  # the whole "(2 of 7 seated, ...)"
        self.join_button = widgets.Button(description="Join", button_style="success")
        self.join_button.add_class("labkit-app-join")
        self.join_button.on_click(lambda _: self.join())
        self.message = widgets.HTML("")
        self.message.add_class("labkit-app-message")
        self.form = widgets.VBox([self.name_box, self.picker, self.join_button])
        self.widget = widgets.VBox([self.title, self.form, self.message])
        self.widget.add_class("labkit-app-play")
        self._wanted = table
        self.refresh()

    def say(self, text: str) -> None:
        self.message.value = (
            f'<p class="labkit-message">{escape(text)}</p>' if text else ""
        )

    def refresh(self) -> bool:
        """Ask the server for its tables; fill the picker, or say why not."""
        try:
            rows = list_tables(self.address)
        except Exception as error:  # refused, silent, or not a tables server
            self.say(unreachable(self.address, error))
            self.join_button.description = "Try again"
            return False
        self.picker.options = [
            (f"{row[0]}  ({row[1]} of {row[2]} seated, bets {row[3]}-{row[4]})", row[0])
            for row in rows
        ]
        if self._wanted in [row[0] for row in rows]:
            self.picker.value = self._wanted
        self.join_button.description = "Join"
        self.say("")
        return True

    def join(self) -> None:
        if self.table is not None:
            return  # one seat a page
        if self.join_button.description == "Try again" and not self.refresh():
            return
        name = self.name_box.value.strip()
        if not NAME.fullmatch(name):
            self.say("A name is 1 to 16 letters, digits, - or _ (no spaces).")
            return
        self.join_button.disabled = True
        try:
            table = SharedTable(self.address, table=self.picker.value, name=name)
        finally:
            self.join_button.disabled = False
        if not table.connected:
            # SharedTable put why in its own words (the protocol's code among
            # them); the form says it to a student, and stays to try again.
            error = table.message
            table.close()
            if "NAME-TAKEN" in error:
                self.say(f"Someone here is called {name} already: choose another.")
            elif "TABLE-FULL" in error:
                self.say("That table is full: pick another one.")
            elif self.refresh():  # the server answers: say what it said
                self.say(error)
            return
        self.table = table
        self.form.layout.display = "none"
        self.say("")
        self.widget.children = [self.title, table.widget, self.message]


class WatchPage:
    """One table as a watcher sees it, drawn large for a projector."""

    def __init__(self, address: tuple[str, int], *, table: int = 1) -> None:
        self.address = address
        style = widgets.HTML(f"<style>{WATCH_CSS}</style>")
        style.layout.display = "none"
        title = widgets.HTML(
            f'<div class="labkit-app-title">Table {table} at '
            f"{escape(format_address(*address))}</div>"
        )
        self.table = SharedTable(address, table=table, watch=True)
        self.widget = widgets.VBox([style, title, self.table.widget])
        self.widget.add_class("labkit-app-watch")


def play_page() -> widgets.Widget:
    """The play page for this kernel's request (see the module's docstring)."""
    return _page(PlayPage)


def watch_page() -> widgets.Widget:
    """The watch page for ``?table=N`` (table 1 without one)."""
    return _page(WatchPage)


def _page(kind) -> widgets.Widget:
    try:
        address = server_address()
    except ValueError as error:  # the page was not started by labkit app
        return widgets.HTML(f'<p class="labkit-message">{escape(str(error))}</p>')
    return kind(address, table=table_number(page_query())).widget
