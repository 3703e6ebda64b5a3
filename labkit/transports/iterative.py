"""iterative: the lecture's first server, one client at a time.

Each connection is served to its end inside the accept loop itself, so the
next client waits in the listen backlog until the current one is done: the
"major practical problem" the lecture asks about. The connection limit never
comes into play here; waiting clients are not turned away, they just wait.
"""

from __future__ import annotations

from .blocking import AcceptLoopServer, serve
from .connection import Connection


class IterativeServer(AcceptLoopServer):
    transport = "iterative"

    def handle(self, connection: Connection) -> None:
        serve(connection)
