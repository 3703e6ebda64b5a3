"""echo (RFC 862 style): every byte comes back unchanged, in order.

Echo is a byte stream, not a line service: no framing, no line limit. Memory
stays bounded because a transport sends a session's output before it reads
again, so at most one receive buffer is held per connection. The idle limit
applies to bytes: a connection that sends nothing for that long is closed,
without an ERROR line (it would corrupt the echoed stream).
"""

from __future__ import annotations

from ..session import Session


class EchoSession(Session):
    def data_received(self, data: bytes) -> bytes:
        self.mark_active()
        return data
