"""The learner's own server, run in a background thread of the notebook.

The learner writes the lecture's server in a cell, as a function that takes a
listening socket and runs the accept loop::

    def my_server(s):
        while True:
            c, a = s.accept()
            c.sendall(b"Hello\\r\\n")
            c.close()

    server = labkit.run_server(my_server)   # 127.0.0.1, a free port
    labkit.check("hello", server)

It may be a ``socketserver`` handler class instead, the lecture's
SocketServer way: ``labkit.run_server(EchoHandler)`` serves it with a
``ThreadingTCPServer``, a thread per connection, on the same listening socket.

``run_server`` binds and listens before the thread starts, so a client can
connect as soon as it returns. Running the cell again replaces the earlier
server (by the function's name, or ``name=``): it is stopped first.

Stopping has to work on code labkit did not write. Python cannot stop a
thread from outside, but it can close its sockets: the listening socket the
function gets records every connection it accepts, and ``stop()`` shuts down
and closes the listener and each of them. A thread blocked in ``accept`` or
``recv`` wakes at once (``accept`` raises ``ServerStopped``; ``recv`` returns
``b""``, then raises ``OSError``). A thread that never touches a socket again
(a loop in pure Python) cannot be stopped: the threads the server started,
and any still alive after ``stop()``, are counted and named in ``message``.

Exceptions in the server's threads never print a traceback into whichever
cell runs: they are kept in ``errors``.
"""

from __future__ import annotations

import inspect
import os
import socket
import socketserver
import sys
import threading
import time
import warnings
import weakref
from collections import deque

from .addresses import DEFAULT_HOST, format_address, wide_bind_warning
from .background import adopt
from .transports.base import STOP_TIMEOUT, bind_listener

BACKLOG = 128
MAX_ERRORS = 20


class ServerStopped(BaseException):
    """Raised by ``accept`` once the server is stopped, to end the accept loop.

    A BaseException, like KeyboardInterrupt, so that the learner's
    ``except Exception: continue`` around ``accept`` does not turn a stop
    into a loop that spins.
    """


# Which learner server started each thread, so its handler threads can be
# counted and their exceptions kept instead of printed.
_owners: weakref.WeakKeyDictionary[threading.Thread, LearnerServer] = (
    weakref.WeakKeyDictionary()
)
_hooks_installed = False
_hooks_lock = threading.Lock()


def _install_hooks() -> None:
    """Note the owner of every thread a learner server starts; keep their errors.

    Installed on the first ``run_server`` (the excepthook again whenever
    something has replaced it since); other threads pass straight through to
    the standard behaviour.
    """
    global _hooks_installed
    with _hooks_lock:
        if not _hooks_installed:
            original_start = threading.Thread.start

            def start(thread: threading.Thread) -> None:
                owner = _owners.get(threading.current_thread())
                if owner is not None:
                    owner._adopt_thread(thread)
                original_start(thread)

            threading.Thread.start = start  # type: ignore[method-assign]
            _hooks_installed = True
        if not getattr(threading.excepthook, "labkit_learner", False):
            previous = threading.excepthook

            def excepthook(args) -> None:
                owner = _owners.get(args.thread) if args.thread is not None else None
                if owner is None:
                    previous(args)
                else:
                    owner._record(args.exc_value)

            excepthook.labkit_learner = True  # type: ignore[attr-defined]
            threading.excepthook = excepthook


class _Listener(socket.socket):
    """A listening socket that remembers what it accepted, for ``stop()``."""

    _server: LearnerServer

    def accept(self):
        server = self._server
        if server.stopping:
            raise ServerStopped("the server was stopped")
        try:
            connection, address = super().accept()
        except OSError:
            if server.stopping:  # stop() shut the listener down under accept
                raise ServerStopped("the server was stopped") from None
            raise
        if not server._adopt_connection(connection):
            _close_hard(connection)
            raise ServerStopped("the server was stopped")
        return connection, address


def _close_hard(sock: socket.socket) -> None:
    """Wake any thread blocked on ``sock`` and close its descriptor.

    ``shutdown`` wakes a blocked ``accept``/``recv``; ``close`` alone would
    not. A socket with a ``makefile`` still open closes only when the file
    does, so the descriptor is taken away from it and closed here.
    """
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # not connected, or closed already
    try:
        fd = sock.detach()
    except OSError:
        return
    if fd >= 0:
        os.close(fd)


class _HandlerServer(socketserver.ThreadingTCPServer):
    """socketserver's threaded server, serving on the listener of ``run_server``.

    So a learner's handler class gets what a learner's function gets: its
    connections are accepted by the ``_Listener`` (``stop()`` closes each
    one, and ``serve_forever`` ends on the ``ServerStopped`` that ``accept``
    raises), and its handler threads are counted. ``socketserver`` prints a
    handler's exception to stderr, into whichever cell runs: it is kept in
    ``errors`` instead.
    """

    daemon_threads = True  # the kernel never waits for a handler to exit
    block_on_close = False  # stop() joins the handler threads, within a bound

    def __init__(self, listener: _Listener, handler_class: type) -> None:
        address = listener.getsockname()[:2]
        super().__init__(address, handler_class, bind_and_activate=False)
        self.socket.close()  # the socket __init__ made, never bound: use ours
        self.socket = listener
        self.learner = listener._server

    def service_actions(self) -> None:
        # serve_forever calls it after every poll: a stop that a poll missed
        # still ends the loop within poll_interval
        if self.learner.stopping:
            raise ServerStopped("the server was stopped")

    def handle_error(self, request, client_address) -> None:
        self.learner._record(sys.exc_info()[1])


def _serve_with_socketserver(handler_class: type):
    """The server function that serves ``handler_class`` on the listener."""

    def serve(listener: _Listener) -> None:
        _HandlerServer(listener, handler_class).serve_forever(poll_interval=0.1)

    serve.__name__ = handler_class.__name__
    return serve


def _is_handler_class(function) -> bool:
    return isinstance(function, type) and issubclass(
        function, socketserver.BaseRequestHandler
    )


class LearnerServer:
    """A learner's server function running in a background thread.

    ``address`` (``host``, ``port``) is where clients connect; ``running``
    says whether the function still runs; ``message`` says how it is, in
    words; ``errors`` holds what its threads raised. ``stop()`` ends it.
    """

    def __init__(self, function, name: str, host: str) -> None:
        self.function = function
        self.name = name
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._threads: deque[threading.Thread] = deque()
        self._accepted = 0
        self._returned = False
        self._stopped = False  # stop() has run to its end
        plain = bind_listener(host, 0, BACKLOG)
        self.listener = _Listener(
            plain.family, plain.type, plain.proto, fileno=plain.detach()
        )
        self.listener._server = self
        self.address: tuple[str, int] = self.listener.getsockname()[:2]
        self.thread = threading.Thread(
            target=self._run, name=f"labkit-learner-{name}", daemon=True
        )
        _owners[self.thread] = self

    @property
    def host(self) -> str:
        return self.address[0]

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def running(self) -> bool:
        return self.thread.is_alive() and not self.stopping

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def threads(self) -> list[threading.Thread]:
        """The threads the server started (handlers) that are still alive."""
        with self._lock:
            return [thread for thread in self._threads if thread.is_alive()]

    @property
    def message(self) -> str:
        """How the server is, in plain words (no port: ``address`` has it)."""
        name = self.name
        errors = self._errors_said()
        if self._stopped:
            said = f"{name} is stopped: its listener and every connection it "
            said += "accepted are closed."
            if self.thread.is_alive():
                said += (
                    f" But {name} itself is still running: it caught the stop"
                    " (a bare except: around accept?). labkit cannot stop it;"
                    " Kernel > Restart Kernel does."
                )
            if left := len(self.threads):
                threads = "1 thread" if left == 1 else f"{left} threads"
                said += (
                    f" But {threads} it started {'is' if left == 1 else 'are'}"
                    " still running: labkit can close sockets, not stop a thread"
                    " that never touches one again (a loop in pure Python)."
                    " It runs until the kernel restarts (Kernel > Restart Kernel)."
                )
            return said + errors
        if self.thread.is_alive():
            count = self._accepted
            accepted = "1 connection" if count == 1 else f"{count} connections"
            return f"{name} is running: it has accepted {accepted}.{errors}"
        if self.errors and not self._returned:
            error = self.errors[0]
            return (
                f"{name} stopped with an error: {type(error).__name__}: {error}."
                " Nothing accepts connections any more; fix the function and"
                " run its cell again. (server.errors holds the exception.)"
            )
        return (
            f"{name} returned, so nothing accepts connections any more. A"
            " server's accept loop runs until it is stopped (while True: ...)."
        ) + errors

    def _errors_said(self) -> str:
        if not self.errors:
            return ""
        last = self.errors[-1]
        return (
            f" Errors so far (server.errors): {len(self.errors)}, the last"
            f" {type(last).__name__}: {last}."
        )

    def start(self) -> LearnerServer:
        _install_hooks()
        self.thread.start()
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Close the listener and every accepted connection; join the threads.

        Returns True if the server's thread and every thread it started ended
        within ``timeout`` seconds; ``message`` names what still runs.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            first = not self._stopping.is_set()
            self._stopping.set()
            connections, self._connections = list(self._connections), set()
        if first:
            _close_hard(self.listener)
            for connection in connections:
                _close_hard(connection)
        self.thread.join(max(0.0, deadline - time.monotonic()))
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stopped = True
        return not self.thread.is_alive() and not self.threads

    # -- inside the server's threads ------------------------------------------

    def _run(self) -> None:
        try:
            self.function(self.listener)
        except ServerStopped:
            pass
        except BaseException as error:  # the learner's bug: keep it, never print
            if not self.stopping:
                self._record(error)
        else:
            self._returned = True
        finally:
            if not self.stopping:  # returned or raised: turn clients away
                _close_hard(self.listener)

    def _adopt_connection(self, connection: socket.socket) -> bool:
        with self._lock:
            if self.stopping:
                return False
            self._connections = {c for c in self._connections if c.fileno() != -1}
            self._connections.add(connection)
            self._accepted += 1
            return True

    def _adopt_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            while self._threads and not self._threads[0].is_alive():
                self._threads.popleft()  # done: forget it (bounded memory)
            self._threads.append(thread)
        _owners[thread] = self

    def _record(self, error: BaseException) -> None:
        if self.stopping and isinstance(error, (OSError, ServerStopped)):
            return  # the stop closed its socket under it: expected
        with self._lock:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(error)

    # -- for cells ------------------------------------------------------------

    def __enter__(self) -> LearnerServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        errors = f", {len(self.errors)} errors" if self.errors else ""
        where = format_address(*self.address)
        return f"<LearnerServer {self.name} on {where}, {state}{errors}>"


def run_server(
    function, *, name: str | None = None, host: str = DEFAULT_HOST
) -> LearnerServer:
    """Run ``function(listening_socket)`` in a background thread; return its handle.

    ``function`` may also be a ``socketserver.BaseRequestHandler`` subclass:
    a ``ThreadingTCPServer`` serves it, a thread per connection. The socket
    listens on ``host`` and a free port (``server.port``). Running the cell
    again replaces the server of the same name (by default the function's or
    the class's name): the old one is stopped first. ``server.stop()`` or
    ``labkit.stop_all()`` stops it.
    """
    if _is_handler_class(function):
        function = _serve_with_socketserver(function)
    if not callable(function):
        raise TypeError(
            f"run_server needs your server function, not {type(function).__name__}"
        )
    if inspect.iscoroutinefunction(function):
        raise TypeError(
            "run_server runs a plain function (def, not async def) that takes a"
            " listening socket"
        )
    try:
        inspect.signature(function).bind(None)
    except TypeError:
        raise TypeError(
            f"{getattr(function, '__name__', 'the function')} should take one"
            " argument, the listening socket: def my_server(s): ..."
        ) from None
    except ValueError:
        pass  # no signature to read (a builtin): let it run
    if warning := wide_bind_warning(host):
        warnings.warn(warning, stacklevel=2)
    key = name or getattr(function, "__name__", "server")
    return adopt(key, lambda: LearnerServer(function, key, host).start())
