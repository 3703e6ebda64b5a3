"""What every transport has in common: the server interface and its records.

A transport moves bytes between sockets and sessions and owns its
concurrency; what happens on one connection is the connection engine's
(``connection.py``); everything else about a server is here, once:

- ``start()`` binds in the caller's thread (so a taken port raises where the
  user called it), starts the serving thread(s) and returns once the server
  accepts connections; ``stop()`` closes the listener and every connection
  and joins the threads within a bounded time;
- ``connect()`` admits a new connection, or turns it away with the
  service's busy reply when the server is full;
- ``address``, ``port``, ``stats`` (counters), ``log`` (recent events) and
  ``errors`` (what went wrong inside), all bounded in memory;
- a context manager, so ``with serve(...) as server:`` always stops.

Server threads never print: a notebook would show it in whichever cell
happens to run. They write to ``log`` and ``errors`` instead.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from ..addresses import DEFAULT_HOST, format_address
from ..limits import DEFAULT_LIMITS, Limits
from ..session import Session
from .connection import Channel, Connection

STOP_TIMEOUT = 2.0


class PortInUseError(OSError):
    """The port is taken; the message says by whom it might be and what to do."""


@dataclass
class Stats:
    """Counters a monitor can show; updated under the server's lock."""

    open: int = 0  # connections being served now
    accepted: int = 0  # connections given a session, since start
    rejected: int = 0  # connections turned away with ERROR BUSY
    errors: int = 0  # failures inside the server (see Server.errors)


@dataclass(frozen=True)
class ServerError:
    """Something that went wrong inside a server thread."""

    when: str
    where: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"{self.when} {self.where}: {self.message}"


REUSE_ADDRESS = os.name == "posix"


def send_at_once(sock: socket.socket) -> None:
    """Turn Nagle's algorithm off for an accepted connection, as asyncio does.

    A line service writes small lines, and a table pushes several in a row:
    with Nagle's algorithm on, a second small write waits for the peer's ACK,
    which the peer may delay by up to 40 ms.
    """
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass  # the peer has gone already: the first recv will say so


def bind_listener(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6, by the host)."""
    try:
        infos = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    try:
        # Lets a new server take a fixed port at once after a stop, instead
        # of waiting out TIME_WAIT ("Address already in use"). On Windows the
        # option lets a second program take a port in use: left off, as
        # asyncio leaves it.
        if REUSE_ADDRESS:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(backlog)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                errno.EADDRINUSE,
                f"port {port} on {host} is already in use by another program. "
                "Use another port (port=0 picks a free one), or stop the program "
                f"that holds it (`ss -ltnp 'sport = :{port}'` names it)",
            ) from None
        raise
    return listener


class Server:
    """The interface of every transport.

    Subclasses implement ``_start_serving`` and ``_stop_serving``; for each
    connection they call ``connect`` and drive the :class:`Connection` it
    returns.
    """

    transport = "base"
    backlog = 128

    def __init__(
        self,
        session_class: type[Session] | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        limits: Limits = DEFAULT_LIMITS,
        service: str = "",
        **options: object,
    ) -> None:
        self.session_class = session_class
        self.options = options  # the service's own, e.g. blackjack's seed
        self.service = service or getattr(session_class, "__name__", "server")
        self.limits = limits
        self.stats = Stats()
        self._requested = (host, port)
        self._log: deque[str] = deque(maxlen=500)
        # Also hands each log line to this, from the server's threads: the
        # command line prints them for the person running the server.
        self.log_to: Callable[[str], None] | None = None
        self._errors: deque[ServerError] = deque(maxlen=100)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._threads: set[threading.Thread] = set()
        self._connections: set[Connection] = set()
        self._per_peer: Counter[str] = Counter()  # open connections by address

    # -- the public interface ---------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the server listens on."""
        if self._address is None:
            raise RuntimeError("the server is not started; call start() first")
        return self._address

    @property
    def host(self) -> str:
        return self.address[0]

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def running(self) -> bool:
        return self._address is not None and not self._stopping.is_set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def log(self) -> list[str]:
        """Recent events, oldest first (the last 500)."""
        return list(self._log)

    @property
    def errors(self) -> list[ServerError]:
        """Failures inside the server (the last 100)."""
        return list(self._errors)

    def start(self) -> Server:
        """Bind, listen, start serving; return once connections are accepted."""
        if self._address is not None:
            raise RuntimeError("a server can be started once; make a new one")
        host, port = self._requested
        # A backlog as deep as the connection limit: a burst of connects then
        # waits in the kernel's queue instead of being retried seconds later.
        backlog = max(self.backlog, self.limits.max_connections)
        self._listener = bind_listener(host, port, backlog)
        bound = self._listener.getsockname()
        self._address = (bound[0], bound[1])
        # A service with state shared by its connections sets it up first.
        if (serving := getattr(self.session_class, "serving", None)) is not None:
            try:
                serving(self)
            except BaseException:  # bad options: no listener left behind
                self._listener.close()
                self._listener = self._address = None
                raise
        self._start_serving()
        self.record(f"listening on {format_address(*self._address)}")
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Close the listener and every connection; join the threads.

        Returns True if every thread ended within ``timeout`` seconds.
        Stopping twice is harmless.
        """
        if self._stopping.is_set() or self._address is None:
            return True
        self._stopping.set()
        deadline = time.monotonic() + timeout
        self._stop_serving()
        # Loop: a connection accepted just before the stop may start its
        # thread while we join the others.
        while (remaining := deadline - time.monotonic()) > 0:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                break
            threads[0].join(remaining)
        with self._lock:
            alive = [t.name for t in self._threads]
        if alive:
            self.record_error("stop", f"threads still running: {alive}")
        self.record("stopped")
        return not alive

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = format_address(*self._address) if self._address else "not started"
        state = "running" if self.running else "stopped"
        return (
            f"<{type(self).__name__} {self.service} on {where}, {state}, "
            f"{self.stats.open} open, {self.stats.accepted} served>"
        )

    # -- for subclasses -------------------------------------------------------

    def _start_serving(self) -> None:
        raise NotImplementedError

    def _stop_serving(self) -> None:
        raise NotImplementedError

    def connect(self, channel: Channel) -> Connection | None:
        """A new connection's engine, or None when the server turns it away."""
        peer = channel.peer
        with self._lock:
            full = self.stats.open >= self.limits.max_connections
            # One address cannot take the whole server (a runaway loop in a
            # client, a classmate's script): its extra connections are busy.
            most = self.limits.max_per_peer
            crowded = most is not None and self._per_peer[peer] >= most
            admitted = not (full or crowded or self._stopping.is_set())
            if admitted:
                connection = Connection(self, self.new_session(peer), channel)
                self._connections.add(connection)
                self._per_peer[peer] += 1
                self.stats.open += 1
                self.stats.accepted += 1
            elif full or crowded:
                self.stats.rejected += 1
        if admitted:
            self.record(f"connection from {peer}")
            return connection
        if self.running:
            self.record(f"busy: turned away {peer}")
            per_peer = None if full else self.limits.max_per_peer
            channel.refuse(self.busy_reply(per_peer))
        else:
            channel.refuse(b"")
        return None

    def release(self, connection: Connection, event: str) -> None:
        """Count a connection out, once it is closed."""
        with self._lock:
            if connection not in self._connections:
                return
            self._connections.discard(connection)
            self._per_peer[connection.peer] -= 1
            if not self._per_peer[connection.peer]:
                del self._per_peer[connection.peer]
            self.stats.open -= 1
        self.record(event)

    def connections(self) -> list[Connection]:
        """The connections open now."""
        with self._lock:
            return list(self._connections)

    def busy_reply(self, per_peer: int | None = None) -> bytes:
        """The service's answer to a connection over the limit (``per_peer``:
        over the limit of connections from one address)."""
        assert self.session_class is not None, "this server has no sessions"
        return self.session_class.busy_reply(
            self.limits.max_connections, per_peer=per_peer
        )

    def new_session(self, peer: str) -> Session:
        assert self.session_class is not None, "this server has no sessions"
        return self.session_class(peer, self.limits, **self.options)

    def start_thread(self, target, name: str, *args: object) -> threading.Thread:
        """Start a daemon thread named ``labkit-...`` that stop() will join."""
        thread = threading.Thread(
            target=self._forget_when_done,
            args=(target, *args),
            name=f"labkit-{self.transport}-{self.port}-{name}",
            daemon=True,
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def _forget_when_done(self, target, *args: object) -> None:
        try:
            target(*args)
        except Exception as exc:  # a bug in labkit: keep it, never print it
            self.record_error(threading.current_thread().name, repr(exc))
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def record(self, event: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {event}"
        self._log.append(line)
        if self.log_to is not None:
            self.log_to(line)

    def record_error(self, where: str, message: str) -> None:
        trace = traceback.format_exc() if sys.exc_info()[0] else ""
        error = ServerError(time.strftime("%H:%M:%S"), where, message, trace)
        with self._lock:
            self.stats.errors += 1
        self._errors.append(error)
        self.record(f"error in {where}: {message}")
