"""Blocking sockets, one per connection: what the lecture's designs share.

:func:`drive` is the life of one connection in one thread, and is used by
the iterative, threaded and socketserver transports alike.
:class:`AcceptLoopServer` is the loop from the lecture's slides::

    while True:
        c, a = s.accept()
        handle(c)           # iterative: here; threaded: in a new thread

made safe to run inside a notebook: the loop also wakes up for ``stop()``,
and a full server answers with the service's busy reply.

A thread that waits in ``recv`` cannot also wait to send, yet lines pushed
by other connections must go out at once. So writes never block
(:class:`SocketChannel`): what the peer cannot take yet waits for the
server's one :class:`Flusher` thread, which sends it as the peer reads.
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import time

from .base import Server, send_at_once
from .connection import Connection
from .timeouts import RECV_SIZE, receiver
from .waker import Waker

LINGER = 0.5  # seconds to wait for the peer's FIN before closing (see finish)
HIGH_WATER = 64 * 1024  # bytes waiting to be sent that pause reading
# A send that never blocks, even on a blocking socket (where the kernel keeps
# the receive timeout); elsewhere the socket is non-blocking (timeouts.py).
SEND_FLAGS = getattr(socket, "MSG_DONTWAIT", 0)


def drive(connection: Connection, sock: socket.socket) -> None:
    """The life of one connection: receive, hand the bytes to the engine, repeat.

    The engine answers each step at once (``channel.write``). While the
    peer does not read those answers, this thread does not read its requests.
    """
    channel, session = connection.channel, connection.session
    receive = receiver(sock, session.clock, session.limits.idle_timeout).recv
    connection.start()
    while channel.open:
        if connection.paused:  # backpressure: the peer does not read
            deadline = session.deadline
            timeout = None if deadline is None else deadline - session.clock()
            if not channel.reading.wait(timeout):
                connection.deadline_reached()
                continue
        data = receive(session.deadline)
        if data is None:
            connection.deadline_reached()
        elif data:
            connection.received(data)
        else:
            connection.eof()
            return


class SocketChannel:
    """A blocking socket that the engine writes to without ever blocking."""

    def __init__(self, sock: socket.socket, peer: str, flusher: Flusher) -> None:
        self.sock = sock
        self.peer = peer
        self.flusher = flusher
        self.connection: Connection | None = None  # set by the engine
        self.open = True  # until the engine closes or aborts it
        self.finished = False  # the socket is being closed: flush no more
        self.pending = bytearray()  # written, not yet taken by the kernel
        # Writes come from the connection's own thread, from pushers in other
        # threads and from the flusher: one at a time, each one whole.
        self.lock = threading.Lock()
        self.reading = threading.Event()  # cleared while the peer does not read
        self.reading.set()
        self.drained = threading.Event()
        self.drained.set()

    # -- the engine's calls ----------------------------------------------------

    def write(self, data: bytes) -> None:
        lock = self.lock
        lock.acquire()  # not `with`, which costs twice as much, on every request
        try:
            if self.pending or self.finished:
                self._hold(data)  # behind what already waits
                return
            try:
                sent = self.sock.send(data, SEND_FLAGS)
            except BlockingIOError:
                sent = 0
            except OSError:  # reset: the thread's recv sees it too
                return
            if sent < len(data):
                self._hold(data[sent:])
        finally:
            lock.release()

    def _hold(self, data: bytes) -> None:
        """Keep what the peer cannot take yet, for the flusher to send."""
        if self.finished:
            return
        if not self.pending:
            self.drained.clear()
            self.flusher.watch(self)
        self.pending += data
        if len(self.pending) >= HIGH_WATER and not self.connection.paused:
            self.connection.writing_paused()

    def close(self) -> None:
        self.open = False

    def abort(self) -> None:
        self.open = False
        with self.lock:  # the flusher may be sending from pending
            self.pending.clear()
        self.drained.set()
        self.reading.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread in recv
        except OSError:
            pass

    def pause_reading(self) -> None:
        self.reading.clear()

    def resume_reading(self) -> None:
        self.reading.set()

    def call_later(self, delay: float, callback) -> _ReceiveTimeout:
        return RECEIVE_TIMEOUT

    def call_soon(self, callback, *args) -> None:
        callback(*args)  # write() takes the channel's lock

    def refuse(self, reply: bytes) -> None:
        turn_away(self.sock, reply)

    # -- for the flusher ------------------------------------------------------

    def flush(self) -> bool:
        """Send what the peer takes now; True once nothing is left to send.

        Called with ``lock`` held."""
        if self.finished or not self.pending:
            return True
        try:
            sent = self.sock.send(self.pending, SEND_FLAGS)
        except BlockingIOError:
            return False
        except OSError:
            self.pending.clear()
            sent = 0
        del self.pending[:sent]
        if self.connection.paused and len(self.pending) < HIGH_WATER // 2:
            self.connection.writing_resumed()
        if self.pending:
            return False
        self.drained.set()
        return True


class _ReceiveTimeout:
    """What ``call_later`` gives a blocking connection: drive()'s receive
    timeout is its timer, and there is nothing to cancel."""

    def cancel(self) -> None:
        pass


RECEIVE_TIMEOUT = _ReceiveTimeout()


class Flusher:
    """One thread per server that sends what connections' threads could not.

    It starts on the first write that does not fit, and waits (selectors) for
    every socket that has output left.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self._lock = threading.Lock()
        self._new: list[SocketChannel] = []
        self.waker: Waker | None = None  # made with the thread

    def watch(self, channel: SocketChannel) -> None:
        """Send ``channel.pending`` as the peer takes it; from any thread."""
        with self._lock:
            self._new.append(channel)
            if self.waker is None:
                self.waker = Waker()
                self.server.start_thread(self._run, "flusher")
            self.waker.wake()

    def _run(self) -> None:
        waiting: dict[SocketChannel, None] = {}  # in the order they came
        registered: dict[SocketChannel, bool] = {}
        with selectors.DefaultSelector() as selector:
            selector.register(self.waker.reader, selectors.EVENT_READ)
            try:
                while not self.server.stopping:
                    for key, _ in selector.select():
                        if key.data is None:
                            self.waker.clear()
                        else:
                            waiting[key.data] = None
                    with self._lock:
                        waiting.update(dict.fromkeys(self._new))
                        self._new.clear()
                    for channel in list(waiting):
                        with channel.lock:
                            done = channel.flush()
                        if done:
                            del waiting[channel]
                            if registered.pop(channel, False):
                                selector.unregister(channel.sock)
                        elif channel not in registered:
                            selector.register(
                                channel.sock, selectors.EVENT_WRITE, channel
                            )
                            registered[channel] = True
            finally:
                with self._lock:
                    self.waker.close()


def finish(channel: SocketChannel, idle_timeout: float | None) -> None:
    """Close a connection without losing the last lines sent on it.

    First let the flusher send what waits (at most for the idle limit).
    Then: closing a socket that still has unread input makes the kernel send
    a reset, and the peer may then lose the reply it had not read yet (the
    ``BYE`` after ``QUIT``, say). So send FIN, read what the peer still sends
    until its own FIN, for at most ``LINGER`` seconds, then close.
    """
    sock = channel.sock
    channel.drained.wait(idle_timeout)
    with channel.lock:
        channel.finished = True
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            if not sock.recv(RECV_SIZE):
                break
    except OSError:
        pass
    finally:
        sock.close()


def serve(connection: Connection, handle=drive) -> None:
    """``handle(connection, sock)`` (by default, drive it), then close; never raises."""
    channel: SocketChannel = connection.channel
    reason = ""
    try:
        handle(connection, channel.sock)
    except OSError as exc:
        reason = f"reset ({exc.strerror or exc})"
    except Exception as exc:  # a bug in a handler: keep serving the others
        reason = "closed after an error"
        connection.server.record_error(f"connection from {connection.peer}", repr(exc))
    finally:
        channel.open = False
        finish(channel, connection.session.limits.idle_timeout)
        connection.lost(reason)


def turn_away(conn: socket.socket, reply: bytes) -> None:
    """Send ``reply`` if the peer can take it at once, then close."""
    try:
        conn.setblocking(False)
        conn.send(reply)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(RECV_SIZE)  # read what already came, so close sends no reset
    except OSError:
        pass
    conn.close()


def shut_down_all(server: Server) -> None:
    """Wake every thread blocked on one of the server's connections."""
    for connection in server.connections():
        connection.drop("the server stopped")


class BlockingServer(Server):
    """A server whose connections are blocking sockets, one thread each."""

    def _start_serving(self) -> None:
        self.flusher = Flusher(self)

    def _stop_serving(self) -> None:
        shut_down_all(self)
        if self.flusher.waker is not None:
            self.flusher.waker.wake()

    def accept(self, sock: socket.socket, peer: str) -> Connection | None:
        """Admit a new socket, or turn it away; the engine decides."""
        send_at_once(sock)
        return self.connect(SocketChannel(sock, peer, self.flusher))


class AcceptLoopServer(BlockingServer):
    """Accepts connections in one thread; ``handle`` decides what then."""

    def _start_serving(self) -> None:
        super()._start_serving()
        # Everything the loop needs is made here, before start() returns, so
        # that a server counts all its descriptors once it has started.
        self._waker = Waker()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._waker.reader, selectors.EVENT_READ)
        self.start_thread(self._accept_loop, "accept")

    def _stop_serving(self) -> None:
        self._waker.wake()
        super()._stop_serving()

    def handle(self, connection: Connection) -> None:
        raise NotImplementedError

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        with self._selector as selector:
            try:
                while not self.stopping:
                    selector.select()
                    if not self.stopping:
                        self._accept_one(listener)
            finally:
                listener.close()
                self._waker.close()

    def _accept_one(self, listener: socket.socket) -> None:
        try:
            sock, address = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                self.record_error("accept", "out of file descriptors")
                self._stopping.wait(0.1)  # let some connections end first
            return  # or the peer gave up before we accepted it: nothing to do
        if connection := self.accept(sock, address[0]):
            self.handle(connection)
