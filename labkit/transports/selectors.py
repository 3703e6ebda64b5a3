"""selectors: one thread serves every connection, with non-blocking sockets.

The loop asks the operating system which sockets are ready (``select``,
``epoll``, ``kqueue``: ``selectors.DefaultSelector`` picks the best one) and
does only what will not block: accept, read what has arrived, write what the
peer can take. No thread per connection, so a thousand idle clients cost a
thousand small objects, not a thousand threads.

What a blocking server gets for free has to be done by hand here: the
loop keeps each connection's unsent output in its own buffer, watches the
socket for writability while that buffer holds anything, and runs the idle
deadlines as timers. (The connection engine decides what to do with them:
stop reading from a peer whose buffer is full, drop one that never reads.)
Other threads reach the loop through a queue and a wake-up socket.
"""

from __future__ import annotations

import heapq
import itertools
import selectors
import socket
import threading
import time
from collections import deque

from .base import Server, send_at_once
from .blocking import turn_away
from .connection import Connection
from .timeouts import RECV_SIZE
from .waker import Waker

HIGH_WATER = 64 * 1024
# Connections accepted per wake-up: a burst of them waits its turn behind the
# reads of those already in, whose resets free their places (Twisted and
# asyncio bound their accept batches too).
ACCEPT_BATCH = 64
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class _Timer:
    def __init__(self, when: float, callback) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class SocketChannel:
    """One non-blocking socket, as the engine sees it; used only in the loop."""

    def __init__(self, loop: SelectorsServer, sock: socket.socket, peer: str) -> None:
        self.loop = loop
        self.sock = sock
        self.peer = peer
        self.connection: Connection | None = None  # set by the engine
        self.out = bytearray()
        self.events = _READ
        self.reading = True
        self.closing = False

    def write(self, data: bytes) -> None:
        if self.sock.fileno() < 0:
            return
        self.out += data
        self.loop.send(self)

    def close(self) -> None:
        self.closing = True
        self.loop.send(self)

    def abort(self) -> None:
        self.loop.close(self, graceful=False)

    def pause_reading(self) -> None:
        self.reading = False
        self.loop.update(self)

    def resume_reading(self) -> None:
        self.reading = True
        self.loop.update(self)

    def call_later(self, delay: float, callback) -> _Timer:
        return self.loop.call_later(delay, callback)

    def call_soon(self, callback, *args) -> None:
        self.loop.call_soon(callback, *args)

    def refuse(self, reply: bytes) -> None:
        turn_away(self.sock, reply)


class SelectorsServer(Server):
    transport = "selectors"

    def _start_serving(self) -> None:
        self._waker = Waker()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, _READ)
        self._selector.register(self._waker.reader, _READ)
        self._timers: list[tuple[float, int, _Timer]] = []  # a heap
        self._order = itertools.count()
        self._calls: deque = deque()  # from other threads
        self._loop_thread = self.start_thread(self._loop, "loop")

    def _stop_serving(self) -> None:
        self._waker.wake()

    # -- what channels ask of the loop ---------------------------------------

    def call_later(self, delay: float, callback) -> _Timer:
        timer = _Timer(time.monotonic() + delay, callback)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    def call_soon(self, callback, *args) -> None:
        if threading.current_thread() is self._loop_thread:
            callback(*args)
        else:
            self._calls.append((callback, args))
            self._waker.wake()

    def send(self, channel: SocketChannel) -> None:
        """Send what the peer takes now; close once all is sent, if asked."""
        if channel.out:
            try:
                sent = channel.sock.send(channel.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.close(channel, graceful=False)
                return
            del channel.out[:sent]
        if channel.closing and not channel.out:
            self.close(channel, graceful=True)
            return
        connection = channel.connection
        if len(channel.out) >= HIGH_WATER and not connection.paused:
            connection.writing_paused()
        elif connection.paused and len(channel.out) < HIGH_WATER // 2:
            connection.writing_resumed()
        self.update(channel)

    def update(self, channel: SocketChannel) -> None:
        """Wait for what the channel needs: data to read, room to write."""
        if channel.sock.fileno() < 0:
            return
        events = _WRITE if channel.out else 0
        if channel.reading and not channel.closing:
            events |= _READ
        if events == channel.events:
            return
        if not channel.events:
            self._selector.register(channel.sock, events, channel)
        elif not events:
            self._selector.unregister(channel.sock)
        else:
            self._selector.modify(channel.sock, events, channel)
        channel.events = events

    def close(self, channel: SocketChannel, *, graceful: bool) -> None:
        """Unregister and close; graceful sends FIN and reads what already came."""
        sock = channel.sock
        if sock.fileno() < 0:
            return
        if channel.events:
            self._selector.unregister(sock)
        if graceful:
            try:
                sock.shutdown(socket.SHUT_WR)
                sock.recv(RECV_SIZE)  # so that close sends no reset
            except OSError:
                pass
        sock.close()
        channel.connection.lost()

    # -- the loop ----------------------------------------------------------------

    def _loop(self) -> None:
        listener, selector = self._listener, self._selector
        assert listener is not None
        listener.setblocking(False)
        try:
            while not self._stopping.is_set():
                for key, events in selector.select(self._until_next_timer()):
                    if key.fileobj is listener:
                        self._accept(listener)
                    elif key.fileobj is self._waker.reader:
                        self._waker.clear()
                    else:
                        self._ready(key.data, events)
                self._run_calls()
                self._run_timers()
        finally:
            for key in list(selector.get_map().values()):
                if isinstance(key.data, SocketChannel):
                    self.close(key.data, graceful=False)
            for connection in self.connections():  # those not registered now
                self.close(connection.channel, graceful=False)
            selector.close()
            listener.close()
            self._waker.close()

    def _until_next_timer(self) -> float | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        if self._calls:
            return 0
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - time.monotonic())

    def _run_calls(self) -> None:
        for _ in range(len(self._calls)):
            callback, args = self._calls.popleft()
            callback(*args)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):  # what is waiting, a batch at a time
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self.record_error("accept", exc.strerror or repr(exc))
                return
            send_at_once(sock)
            channel = SocketChannel(self, sock, address[0])
            if connection := self.connect(channel):
                sock.setblocking(False)
                self._selector.register(sock, _READ, channel)
                connection.start()

    def _ready(self, channel: SocketChannel, events: int) -> None:
        if events & _WRITE:
            self.send(channel)
        if events & _READ and channel.reading and channel.sock.fileno() >= 0:
            try:
                data = channel.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close(channel, graceful=False)  # reset by the peer
                return
            if data:
                channel.connection.received(data)
            else:
                channel.connection.eof()
