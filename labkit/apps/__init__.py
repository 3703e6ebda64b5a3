"""The table app: a class at shared tables in the browser, without code.

Voilà runs a notebook as a web page: it executes the cells in a kernel of
its own for each page view and shows only the outputs (the widgets), never
the code. ``python -m labkit app --server HOST:PORT`` serves the two
notebooks in this folder:

    play.ipynb    a student types a name, picks a table and plays by clicks
    watch.ipynb   one table as a watcher sees it, large, for a projector

Each notebook is one line that calls a function of :mod:`labkit.apps.pages`,
so the page's logic is plain Python that a test can import. The kernels
learn the tables server's address from the environment variable
``LABKIT_TABLES_SERVER`` (Voilà passes its own environment on to them) and
the table to watch from the page's query string (``?table=2``).
"""

from __future__ import annotations

from pathlib import Path

APP_DIR = Path(__file__).resolve().parent  # the folder Voilà serves
SERVER_ENV = "LABKIT_TABLES_SERVER"  # host:port of the tables server
PLAY = "play.ipynb"
WATCH = "watch.ipynb"
# Seconds a page's kernel may go without a connection and without activity
# before the app ends it: its browser went away without closing the page.
CULL_AFTER = 600

__all__ = ["APP_DIR", "CULL_AFTER", "PLAY", "SERVER_ENV", "WATCH"]
