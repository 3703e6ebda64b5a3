"""Blocking sockets, one per connection: what the lecture's designs share.

:func:`serve_connection` runs one session over one blocking socket from the
connection's first byte to its close, and is used by the iterative, threaded
and socketserver transports alike. :class:`AcceptLoopServer` is the loop from
the lecture's slides::

    while True:
        c, a = s.accept()
        handle(c)           # iterative: here; threaded: in a new thread

made safe to run inside a notebook: the loop also wakes up for ``stop()``,
and a full server answers ``ERROR BUSY``.
"""

from __future__ import annotations

import errno
import selectors
import socket
import struct
import sys
import time

from ..session import Session, Settings
from .base import Server

RECV_SIZE = 65536
LINGER = 0.5  # seconds to wait for the peer's FIN before closing (see finish)


def drive(sock: socket.socket, session: Session) -> None:
    """Run one session over one blocking socket until it wants to close.

    Each reply is sent before the next read, so a connection holds at most
    one receive buffer of output: memory stays bounded. Raises OSError
    (reset, broken pipe, a send that timed out because the peer does not
    read) for the caller to treat as the end of the connection.
    """
    timeouts = Timeouts(sock, session.settings)
    recv, sendall = sock.recv, sock.sendall  # bound once: called every request
    session.connection_made()
    reply = session.data_to_send()
    while True:
        if reply:
            if timeouts.shortened:
                timeouts.restore()
            try:
                sendall(reply)
            except BlockingIOError:  # SO_SNDTIMEO ran out: the peer does not read
                raise TimeoutError("the client stopped reading") from None
        if session.closing:
            return
        deadline = session.deadline
        try:
            data = recv(RECV_SIZE)
        except (TimeoutError, BlockingIOError):  # BlockingIOError: SO_RCVTIMEO
            data = None
        if data:
            reply = session.answer(data)
            if session.deadline is not deadline:
                # Activity moved the deadline idle_timeout ahead, as far as
                # the receive timeout reaches: a busy connection needs no clock.
                continue
        else:
            if data is not None:
                session.eof_received()
            reply = session.data_to_send()
        # No activity: the deadline may be near, so the next receive ends there.
        if deadline is not None and not session.closing:
            if not timeouts.receive_until(deadline):
                session.deadline_passed()
                reply += session.data_to_send()


class Timeouts:
    """A connection's receive and send timeouts, set only when they change.

    Python's own timeouts cost four system calls a request besides the
    ``recv`` and the ``send``: each ``settimeout()`` is an ioctl, even to the
    same value, and a socket with a timeout polls before every ``recv`` and
    ``send``. With a thread per connection each of those also lets another
    thread take the GIL. On Linux the kernel keeps the timeouts instead
    (SO_RCVTIMEO, SO_SNDTIMEO on a blocking socket): a ``recv`` is then one
    system call, as in a server without timeouts. Both start at the idle
    limit; a receive timeout in force is kept while it ends at most ``slack``
    after the deadline asked for (an idle deadline may pass up to 1% late).
    """

    KERNEL = sys.platform.startswith("linux")

    def __init__(self, sock: socket.socket, settings: Settings) -> None:
        self.sock = sock
        self.clock = settings.clock
        self.idle = settings.idle_timeout
        self.slack = 0.0 if self.idle is None else self.idle / 100
        self.current = self.idle  # the receive timeout in force
        self.shortened = False  # the one Python timeout was set below the idle limit
        if self.KERNEL:
            sock.settimeout(None)  # blocking: no poll before each call
            if self.idle is not None:
                self._set(socket.SO_RCVTIMEO, self.idle)
                self._set(socket.SO_SNDTIMEO, self.idle)
        else:
            sock.settimeout(self.idle)

    def receive_until(self, deadline: float) -> bool:
        """Make the next ``recv`` give up at ``deadline``; False if it has passed."""
        timeout = deadline - self.clock()
        if timeout <= 0:
            return False
        current = self.current
        if current is None or not timeout <= current <= timeout + self.slack:
            self.current = timeout
            if self.KERNEL:
                self._set(socket.SO_RCVTIMEO, timeout)
            else:
                self.sock.settimeout(timeout)
                self.shortened = True
        return True

    def restore(self) -> None:
        """Before a ``sendall``: the one Python timeout back to the idle limit."""
        self.current, self.shortened = self.idle, False
        self.sock.settimeout(self.idle)

    def _set(self, option: int, seconds: float) -> None:
        # struct timeval; 0 means "no timeout", so never round down to it.
        micros = max(1, round(seconds * 1e6))
        value = struct.pack("ll", *divmod(micros, 1_000_000))
        self.sock.setsockopt(socket.SOL_SOCKET, option, value)


def finish(sock: socket.socket) -> None:
    """Close a connection without losing the last lines sent on it.

    Closing a socket that still has unread input makes the kernel send a
    reset, and the peer may then lose the reply it had not read yet (the
    ``BYE`` after ``QUIT``, say). So: send FIN, read what the peer still
    sends until its own FIN, for at most ``LINGER`` seconds, then close.
    """
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


def serve_connection(server: Server, conn: socket.socket, peer: str) -> None:
    """Drive a new session on an admitted ``conn`` to its end; never raises."""
    ended = "closed"
    try:
        drive(conn, server.new_session(peer))
    except TimeoutError:
        ended = "closed: the client stopped reading"
    except OSError as exc:
        ended = f"closed: {exc.strerror or exc}"
    except Exception as exc:  # a bug in a session: keep serving the others
        ended = "closed after an error"
        server.record_error(f"session with {peer}", repr(exc))
    finally:
        if server.running:
            finish(conn)
        else:
            conn.close()
        server.release(conn)
        server.record(f"{ended} ({peer})")


def turn_away(conn: socket.socket, reply: bytes) -> None:
    """Send ``reply`` if the peer can take it at once, then close."""
    try:
        conn.settimeout(0.1)
        conn.sendall(reply)
        conn.shutdown(socket.SHUT_WR)
        conn.setblocking(False)
        conn.recv(RECV_SIZE)  # read what already came, so close sends no reset
    except OSError:
        pass
    conn.close()


def shut_down_all(server: Server) -> None:
    """Wake every thread blocked on one of the server's connections."""
    for conn in server.open_connections():
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class AcceptLoopServer(Server):
    """Accepts connections in one thread; ``handle`` decides what then."""

    def _start_serving(self) -> None:
        # Everything the loop needs is made here, before start() returns, so
        # that a server counts all its descriptors once it has started.
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self.start_thread(self._accept_loop, "accept")

    def _stop_serving(self) -> None:
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass  # the accept loop has already ended
        shut_down_all(self)

    def handle(self, conn: socket.socket, peer: str) -> None:
        raise NotImplementedError

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        with self._selector as selector:
            try:
                while not self._stopping.is_set():
                    selector.select()
                    if not self._stopping.is_set():
                        self._accept_one(listener)
            finally:
                listener.close()
                self._wake_reader.close()
                self._wake_writer.close()

    def _accept_one(self, listener: socket.socket) -> None:
        try:
            conn, address = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                self.record_error("accept", "out of file descriptors")
                self._stopping.wait(0.1)  # let some connections end first
            return  # or the peer gave up before we accepted it: nothing to do
        peer = address[0]
        if self.admit(conn, peer):
            self.handle(conn, peer)
        elif self.running:
            turn_away(conn, self.busy_reply())
        else:
            conn.close()
