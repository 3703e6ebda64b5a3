"""threaded: the lecture's server with a thread per connection.

The accept loop never waits for a client: each accepted connection is handed
to a new thread, so a slow client only holds up itself.
"""

from __future__ import annotations

import itertools

from .blocking import AcceptLoopServer, serve
from .connection import Connection


class ThreadedServer(AcceptLoopServer):
    transport = "threaded"

    def _start_serving(self) -> None:
        self._numbers = itertools.count(1)
        super()._start_serving()

    def handle(self, connection: Connection) -> None:
        name = f"conn-{next(self._numbers)}"
        self.start_thread(serve, name, connection)
