"""asyncio: the same sessions under an asyncio ``Protocol``, on a loop of its own.

The server's event loop runs in its own thread, never on the notebook
kernel's loop (ipykernel runs one of its own; blocking it would freeze the
notebook, and sharing it would tie the server's life to the cell's).

asyncio does for us what the selectors transport does by hand: it buffers
output, tells the protocol when that buffer passes the high-water mark
(``pause_writing``) and when it drains, and runs timers. The protocol below
passes those on to the connection engine, which decides what they mean.
"""

from __future__ import annotations

import asyncio
import threading

from .base import Server
from .connection import Connection

HIGH_WATER = 64 * 1024
RECV_SIZE = 64 * 1024


class _SessionProtocol(asyncio.BufferedProtocol):
    """One connection under asyncio: the engine's channel, and asyncio's protocol.

    A BufferedProtocol: asyncio reads into our buffer with ``recv_into``.
    A plain Protocol gets a new bytes object from ``recv(256 KiB)`` for every
    read, and an allocation that large is an mmap, an mremap and a munmap (and
    page faults) each time: three times the CPU of the rest of an echo.
    One buffer serves every connection of the loop, since a session takes
    its bytes before the loop reads again.
    """

    def __init__(self, server: AsyncioServer) -> None:
        self.server = server
        self.loop = server.loop
        self.connection: Connection | None = None  # set by the engine
        self.buffer = server.read_buffer

    # -- asyncio calls these ------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername")[0]
        self.write = transport.write  # the engine's writes go straight there
        if self.server.connect(self):
            transport.set_write_buffer_limits(high=HIGH_WATER)
            self.connection.start()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.connection.received(bytes(self.buffer[:nbytes]))

    def eof_received(self) -> bool:
        if self.connection is not None:  # None: turned away
            self.connection.eof()
        return True  # the engine closes, once the reply is sent (half-close)

    def pause_writing(self) -> None:
        self.connection.writing_paused()

    def resume_writing(self) -> None:
        self.connection.writing_resumed()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.connection is not None:
            self.connection.lost("reset" if exc else "")

    # -- the engine's channel ---------------------------------------------------

    def close(self) -> None:
        self.transport.close()  # after the buffer is flushed

    def abort(self) -> None:
        self.transport.abort()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        if not self.transport.is_closing():
            self.transport.resume_reading()

    def call_later(self, delay: float, callback) -> asyncio.TimerHandle:
        return self.loop.call_later(delay, callback)

    def call_soon(self, callback, *args) -> None:
        if self.server.in_loop():
            callback(*args)
        else:
            self.loop.call_soon_threadsafe(callback, *args)

    def refuse(self, reply: bytes) -> None:
        self.transport.write(reply)
        self.transport.close()


class AsyncioServer(Server):
    transport = "asyncio"

    def _start_serving(self) -> None:
        # the loop's one read buffer (see _SessionProtocol)
        self.read_buffer = memoryview(bytearray(RECV_SIZE))
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._loop_thread = self.start_thread(self._run_loop, "loop", ready)
        if not ready.wait(5):
            raise RuntimeError("the asyncio server did not start within 5 s")

    def in_loop(self) -> bool:
        return threading.current_thread() is self._loop_thread

    def _run_loop(self, ready: threading.Event) -> None:
        loop = self.loop
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
            asyncio.run_coroutine_threadsafe(self._shut_down(), self.loop)
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
        for connection in self.connections():
            connection.channel.abort()
        for _ in range(3):  # abort() and close() let go a loop turn or two later
            await asyncio.sleep(0)
        loop.stop()
