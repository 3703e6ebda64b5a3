"""hello: the lecture's first server. Greet the client by address, then close."""

from __future__ import annotations

from ..session import Session, protocol_line


class HelloSession(Session):
    """Sends ``Hello <client-ip>`` and closes; reads nothing."""

    def connection_made(self) -> bytes:
        self.close()  # once the greeting is sent
        return protocol_line(f"Hello {self.peer}")
