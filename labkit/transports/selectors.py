"""selectors: one thread serves every connection, with non-blocking sockets.

The loop asks the operating system which sockets are ready (``select``,
``epoll``, ``kqueue``: ``selectors.DefaultSelector`` picks the best one) and
does only what will not block: accept, read what has arrived, write what the
peer can take. No thread per connection, so a thousand idle clients cost a
thousand small objects, not a thousand threads.

What a blocking server gets for free has to be done by hand here:

- backpressure: a connection's unsent output is held in its own buffer;
  while that holds ``HIGH_WATER`` bytes or more, the loop stops reading from
  that peer, so a client that sends and never reads cannot grow our memory;
- deadlines: the loop wakes up at the earliest idle deadline; a peer whose
  deadline passes while its output is stuck is not reading and is dropped.
"""

from __future__ import annotations

import math
import selectors
import socket
from dataclasses import dataclass, field

from ..session import Session
from .base import Server
from .blocking import RECV_SIZE, turn_away

HIGH_WATER = 64 * 1024
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


@dataclass(eq=False)
class _Connection:
    sock: socket.socket
    peer: str
    session: Session
    out: bytearray = field(default_factory=bytearray)
    events: int = _READ


class SelectorsServer(Server):
    transport = "selectors"

    def _start_serving(self) -> None:
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, _READ)
        self._selector.register(self._wake_reader, _READ)
        self._next_check = math.inf  # no deadline can pass before this time
        self.start_thread(self._loop, "loop")

    def _stop_serving(self) -> None:
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass  # the loop has already ended

    def _loop(self) -> None:
        listener, selector, clock = self._listener, self._selector, self.settings.clock
        assert listener is not None
        listener.setblocking(False)
        try:
            while not self._stopping.is_set():
                wait = None
                if self._next_check < math.inf:
                    wait = max(0.0, self._next_check - clock())
                for key, events in selector.select(wait):
                    if key.fileobj is listener:
                        self._accept(listener)
                    elif key.data is not None:
                        self._ready(key.data, events)
                if clock() >= self._next_check:
                    self._check_deadlines()
        finally:
            for key in list(selector.get_map().values()):
                if key.data is not None:
                    self._close(key.data, graceful=False)
            selector.close()
            listener.close()
            self._wake_reader.close()
            self._wake_writer.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:  # take every connection that is waiting
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self.record_error("accept", exc.strerror or repr(exc))
                return
            peer = address[0]
            if not self.admit(sock, peer):
                turn_away(sock, self.busy_reply())
                continue
            sock.setblocking(False)
            conn = _Connection(sock, peer, self.new_session(peer))
            self._selector.register(sock, _READ, conn)
            self._run(conn, conn.session.connection_made)

    def _ready(self, conn: _Connection, events: int) -> None:
        if events & _WRITE:
            self._send(conn)
        if events & _READ and conn.events & _READ and conn.sock.fileno() >= 0:
            try:
                data = conn.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close(conn, graceful=False)  # reset by the peer
                return
            if data:
                self._run(conn, conn.session.data_received, data)
            else:
                self._run(conn, conn.session.eof_received)

    def _run(self, conn: _Connection, step, *args: object) -> None:
        """One step of a session, then send and adjust what we wait for."""
        try:
            step(*args)
        except Exception as exc:  # a bug in a session: drop it, serve the rest
            self.record_error(f"session with {conn.peer}", repr(exc))
            self._close(conn, graceful=False)
            return
        conn.out += conn.session.data_to_send()
        self._send(conn)

    def _send(self, conn: _Connection) -> None:
        if conn.out:
            try:
                sent = conn.sock.send(conn.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._close(conn, graceful=False)
                return
            del conn.out[:sent]
        session = conn.session
        if session.closing and not conn.out:
            self._close(conn, graceful=True)
            return
        events = _WRITE if conn.out else 0
        if not session.closing and len(conn.out) < HIGH_WATER:
            events |= _READ
        if events != conn.events:
            self._selector.modify(conn.sock, events, conn)
            conn.events = events
        deadline = session.deadline
        if deadline is not None and deadline < self._next_check:
            self._next_check = deadline

    def _check_deadlines(self) -> None:
        now = self.settings.clock()
        self._next_check = math.inf
        for key in list(self._selector.get_map().values()):
            conn = key.data
            if conn is None or conn.sock.fileno() < 0:
                continue
            deadline = conn.session.deadline
            if deadline is not None and now >= deadline:
                if conn.out:  # the peer is not reading what we send
                    self._close(conn, graceful=False)
                    continue
                self._run(conn, conn.session.deadline_passed)
            elif deadline is not None:
                self._next_check = min(self._next_check, deadline)

    def _close(self, conn: _Connection, *, graceful: bool) -> None:
        """Unregister and close; graceful sends FIN and reads what already came."""
        if conn.sock.fileno() < 0:
            return
        self._selector.unregister(conn.sock)
        if graceful:
            try:
                conn.sock.shutdown(socket.SHUT_WR)
                conn.sock.recv(RECV_SIZE)  # so that close sends no reset
            except OSError:
                pass
        conn.sock.close()
        self.release(conn.sock)
        self.record(f"closed ({conn.peer})")
