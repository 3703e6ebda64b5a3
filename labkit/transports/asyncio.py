"""asyncio: the same sessions under an asyncio ``Protocol``, on a loop of its own.

The server's event loop runs in its own thread, never on the notebook
kernel's loop (ipykernel runs one of its own; blocking it would freeze the
notebook, and sharing it would tie the server's life to the cell's).

asyncio does for us what the selectors transport does by hand: it buffers
output, and tells the protocol when that buffer passes the high-water mark
(``pause_writing``); we then stop reading from that peer until it drains,
so a client that never reads cannot grow our memory.
"""

from __future__ import annotations

import asyncio
import threading

from .base import Server

HIGH_WATER = 64 * 1024
RECV_SIZE = 64 * 1024


class _SessionProtocol(asyncio.BufferedProtocol):
    """Drives one labkit session; asyncio calls it on the server's loop.

    A BufferedProtocol: asyncio reads into our buffer with ``recv_into``.
    A plain Protocol gets a new bytes object from ``recv(256 KiB)`` for every
    read, and an allocation that large is an mmap, an mremap and a munmap (and
    page faults) each time: three times the CPU of the rest of an echo.
    One buffer serves every connection of the loop, since a session takes
    its bytes before the loop reads again.
    """

    def __init__(self, server: AsyncioServer) -> None:
        self.server = server
        self.session = None
        self.timer: asyncio.TimerHandle | None = None
        self.buffer = server.read_buffer

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername")[0]
        if not self.server.admit(transport, self.peer):
            if self.server.running:
                transport.write(self.server.busy_reply())
            transport.close()
            return
        transport.set_write_buffer_limits(high=HIGH_WATER)
        self.session = self.server.new_session(self.peer)
        self._run(self.session.connection_made)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._run(self.session.data_received, bytes(self.buffer[:nbytes]))

    def eof_received(self) -> bool:
        self._run(self.session.eof_received)
        return True  # we close, once the reply is sent (half-close)

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        if not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.session is not None:
            self.server.release(self.transport)
            self.server.record(f"closed ({self.peer})")

    def _run(self, step, *args: object) -> None:
        """One step of the session, then send, close or wait for the deadline."""
        if self.transport.is_closing():
            return
        try:
            step(*args)
        except Exception as exc:  # a bug in a session: drop it, serve the rest
            self.server.record_error(f"session with {self.peer}", repr(exc))
            self.transport.abort()
            return
        data = self.session.data_to_send()
        if data:
            self.transport.write(data)
        if self.session.closing:
            self.transport.close()  # after the buffer is flushed
        elif self.timer is None and self.session.deadline is not None:
            # One timer at a time: if activity moved the deadline, the timer
            # fires early, finds the session still active and is set again.
            clock = self.session.settings.clock
            delay = max(0.0, self.session.deadline - clock())
            self.timer = asyncio.get_running_loop().call_later(delay, self._deadline)

    def _deadline(self) -> None:
        self.timer = None
        if self.transport.get_write_buffer_size():
            deadline = self.session.deadline
            if deadline is not None and self.session.settings.clock() >= deadline:
                self.transport.abort()  # the peer is not reading what we send
                return
        self._run(self.session.deadline_passed)


class AsyncioServer(Server):
    transport = "asyncio"

    def _start_serving(self) -> None:
        # the loop's one read buffer (see _SessionProtocol)
        self.read_buffer = memoryview(bytearray(RECV_SIZE))
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.start_thread(self._run_loop, "loop", ready)
        if not ready.wait(5):
            raise RuntimeError("the asyncio server did not start within 5 s")

    def _run_loop(self, ready: threading.Event) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _SessionProtocol(self), sock=self._listener)
            )
            ready.set()
            loop.run_forever()
        finally:
            loop.close()

    def _stop_serving(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._shut_down(), self._loop)
        except RuntimeError:
            pass  # the loop is already closed

    async def _shut_down(self) -> None:
        """Close the listener and every connection, then stop the loop.

        Done as a coroutine on the running loop, in an order that leaves no
        socket for the garbage collector: first stop accepting, then let the
        connections being accepted (tasks) finish (the protocol turns them
        away), and only then close the asyncio server. Closed earlier, it
        makes those tasks fail (Python 3.11 asserts in ``Server._attach``)
        and drop their sockets unclosed.
        """
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._listener.fileno())
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        self._server.close()
        for transport in self.open_connections():
            transport.abort()
        for _ in range(3):  # abort() and close() let go a loop turn or two later
            await asyncio.sleep(0)
        loop.stop()
