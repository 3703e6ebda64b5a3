"""twisted: the same sessions under a Twisted ``Protocol`` and ``Factory``.

Twisted's reactor is its event loop. It can run only once per process and
cannot be restarted, so labkit starts it once, in a daemon thread named
``twisted-reactor``, and never stops it; servers come and go on it. All
Twisted calls happen in the reactor's thread: from outside we go through
``reactor.callFromThread`` and wait for the result with a timeout.

The listening socket is ours (bound by ``Server.start``, so a taken port
raises the usual clear error) and handed over with ``adoptStreamPort``.

Two things a Twisted protocol must do by hand:

- half-close: a protocol that does not implement ``IHalfCloseableProtocol``
  is disconnected as soon as the peer shuts its sending side, so
  ``printf 'DEAL\\n' | nc -N HOST PORT`` would lose its reply;
- backpressure: ``transport.write`` buffers without limit; a push producer
  registered on the transport is told when the buffer is full, and we then
  stop reading from that peer until it drains.
"""

from __future__ import annotations

import concurrent.futures
import threading

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IHalfCloseableProtocol, IPushProducer
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from .base import Server

_reactor_lock = threading.Lock()


def _reactor():
    """The global reactor, running in its own thread (started on first use)."""
    from twisted.internet import reactor

    with _reactor_lock:
        if not any(t.name == "twisted-reactor" for t in threading.enumerate()):
            threading.Thread(
                target=reactor.run,
                kwargs={"installSignalHandlers": False},  # only the main thread may
                name="twisted-reactor",
                daemon=True,
            ).start()
    return reactor


def call_in_reactor(function, *args: object, timeout: float = 5.0, **kwargs: object):
    """Run ``function`` in the reactor's thread; wait for it (and its Deferred)."""
    future: concurrent.futures.Future = concurrent.futures.Future()

    def call() -> None:
        try:
            result = function(*args, **kwargs)
        except Exception as exc:
            future.set_exception(exc)
            return
        if isinstance(result, Deferred):
            result.addCallbacks(
                future.set_result, lambda f: future.set_exception(f.value)
            )
        else:
            future.set_result(result)

    _reactor().callFromThread(call)
    return future.result(timeout)


@implementer(IPushProducer)
class _ReadThrottle:
    """Told by the transport when its write buffer is full or drained."""

    def __init__(self, transport) -> None:
        self.transport = transport
        self.paused = False

    def pauseProducing(self) -> None:
        self.paused = True
        self.transport.pauseProducing()  # stop reading from the peer

    def resumeProducing(self) -> None:
        self.paused = False
        self.transport.resumeProducing()

    def stopProducing(self) -> None:
        pass


@implementer(IHalfCloseableProtocol)
class _SessionProtocol(Protocol):
    def __init__(self, server: TwistedServer) -> None:
        self.server = server
        self.session = None
        self.timer = None
        self.lost = Deferred()

    def connectionMade(self) -> None:
        self.peer = self.transport.getPeer().host
        if not self.server.admit(self, self.peer):
            if self.server.running:
                self.transport.write(self.server.busy_reply())
            self.transport.loseConnection()
            return
        self.throttle = _ReadThrottle(self.transport)
        self.transport.registerProducer(self.throttle, True)
        self.session = self.server.new_session(self.peer)
        self._run(self.session.connection_made)

    def dataReceived(self, data: bytes) -> None:
        # Called for every chunk received: _run's steps, written out for speed.
        session, transport = self.session, self.transport
        if session is None or transport.disconnecting:
            return
        try:
            reply = session.answer(data)
        except Exception as exc:  # a bug in a session: drop it, serve the rest
            self._drop(exc)
            return
        if reply:
            transport.write(reply)
        if session.closing or self.timer is None:
            self._after_step()  # close, or set the idle timer

    def readConnectionLost(self) -> None:
        if self.session is not None:
            self._run(self.session.eof_received)

    def writeConnectionLost(self) -> None:
        pass

    def connectionLost(self, reason) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if self.session is not None:
            self.server.release(self)
            self.server.record(f"closed ({self.peer})")
        self.lost.callback(None)

    def _run(self, step, *args: object) -> None:
        """One step of the session, then send, close or wait for the deadline."""
        if self.transport.disconnecting:
            return
        try:
            step(*args)
        except Exception as exc:  # a bug in a session: drop it, serve the rest
            self._drop(exc)
        else:
            self._after_step()

    def _drop(self, exc: Exception) -> None:
        self.server.record_error(f"session with {self.peer}", repr(exc))
        self.transport.loseConnection()

    def _after_step(self) -> None:
        session, transport = self.session, self.transport
        if data := session.data_to_send():
            transport.write(data)
        if session.closing:
            transport.unregisterProducer()
            transport.loseConnection()  # after the buffer is flushed
        elif self.timer is None and session.deadline is not None:
            # One timer at a time: if activity moved the deadline, the timer
            # fires early, finds the session still active and is set again.
            delay = max(0.0, session.deadline - session.settings.clock())
            self.timer = _reactor().callLater(delay, self._deadline)

    def _deadline(self) -> None:
        self.timer = None
        deadline = self.session.deadline
        passed = deadline is not None and self.session.settings.clock() >= deadline
        if passed and self.throttle.paused:
            self.transport.abortConnection()  # the peer is not reading
            return
        self._run(self.session.deadline_passed)


class _SessionFactory(Factory):
    noisy = False  # Factory logs "Starting factory" otherwise

    def __init__(self, server: TwistedServer) -> None:
        self.server = server

    def buildProtocol(self, addr) -> _SessionProtocol:
        return _SessionProtocol(self.server)


class TwistedServer(Server):
    transport = "twisted"

    def _start_serving(self) -> None:
        listener = self._listener
        assert listener is not None
        listener.setblocking(False)  # adoptStreamPort requires it
        self._port = call_in_reactor(
            _reactor().adoptStreamPort,
            listener.fileno(),
            listener.family,
            _SessionFactory(self),
        )
        listener.close()  # the reactor works on its own copy of the socket

    def _stop_serving(self) -> None:
        try:
            call_in_reactor(self._shut_down)
        except concurrent.futures.TimeoutError:
            self.record_error(
                "stop", "the reactor did not close the connections in 5 s"
            )

    def _shut_down(self) -> Deferred:
        waits = [self._port.stopListening()]
        for protocol in self.open_connections():
            protocol.transport.abortConnection()
            waits.append(protocol.lost)
        return DeferredList(waits)
