"""What every labkit widget shares: a root box, how it displays, how it closes.

A labkit widget is a plain class that *owns* its ipywidgets rather than
subclassing one: ``widget`` is the root box to put in a layout, and the
object itself displays as that box (``table`` alone in a cell shows it).
Its plain-text form is the widget's state in words, which is what a
front end without widgets shows and what nbval compares.
"""

from __future__ import annotations

from typing import TypeVar

import ipywidgets as widgets

W = TypeVar("W", bound=widgets.Widget)


class LabWidget:
    """Base class: owns ipywidgets, displays as ``widget``, ``close()`` frees all."""

    widget: widgets.Box

    def __init__(self) -> None:
        self._owned: list[widgets.Widget] = []
        self.closed = False

    def _own(self, widget: W) -> W:
        """Keep ``widget`` so that ``close()`` closes it (and its comm)."""
        self._owned.append(widget)
        return widget

    def _html(self, css: str) -> widgets.HTML:
        """An empty HTML area with the CSS class ``css`` (tests find it by it)."""
        box = self._own(widgets.HTML(""))
        box.add_class(css)
        return box

    def _button(self, label: str, css: str, style: str, tip: str) -> widgets.Button:
        """A button as wide as its label, with the CSS class ``css``."""
        button = widgets.Button(description=label, button_style=style, tooltip=tip)
        button.layout.width = "auto"
        button.add_class(css)
        return self._own(button)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        bundle = None if self.closed else self.widget._repr_mimebundle_(**kwargs)
        bundle = dict(bundle or {})
        bundle["text/plain"] = str(self)
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)

    def close(self) -> None:
        """Release sockets and threads, then close every widget (views vanish)."""
        if self.closed:
            return
        self.closed = True
        self._release()
        for widget in reversed(self._owned):
            widget.close()

    def _release(self) -> None:
        """Subclasses close their connection or stop their thread here."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
