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
  ``printf 'DEAL\\n' | nc -N HOST PORT`` could lose its reply;
- backpressure: ``transport.write`` buffers without limit; a push producer
  registered on the transport is told when the buffer is full and when it
  has drained, and passes that on to the connection engine.
"""

from __future__ import annotations

import concurrent.futures
import threading

from twisted.internet.defer import Deferred, DeferredList
from twisted.internet.interfaces import IHalfCloseableProtocol, IPushProducer
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from .base import Server
from .connection import Connection

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


def in_reactor() -> bool:
    return threading.current_thread().name == "twisted-reactor"


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


@implementer(IHalfCloseableProtocol, IPushProducer)
class _SessionProtocol(Protocol):
    """One connection under Twisted: its protocol, producer and engine channel."""

    def __init__(self, server: TwistedServer) -> None:
        self.server = server
        self.connection: Connection | None = None  # set by the engine
        self.lost = Deferred()

    # -- Twisted calls these ----------------------------------------------------

    def connectionMade(self) -> None:
        self.peer = self.transport.getPeer().host
        self.transport.setTcpNoDelay(True)  # as send_at_once (base.py) says why
        self.write = self.transport.write  # the engine's writes go straight there
        if self.server.connect(self):
            self.transport.registerProducer(self, True)
            self.connection.start()

    def dataReceived(self, data: bytes) -> None:
        self.connection.received(data)

    def readConnectionLost(self) -> None:
        if self.connection is not None:  # None: turned away
            self.connection.eof()

    def writeConnectionLost(self) -> None:
        pass

    def connectionLost(self, reason) -> None:
        if self.connection is not None:
            self.connection.lost()
        self.lost.callback(None)

    def pauseProducing(self) -> None:  # the transport's write buffer is full
        self.connection.writing_paused()

    def resumeProducing(self) -> None:
        self.connection.writing_resumed()

    def stopProducing(self) -> None:
        pass

    # -- the engine's channel ---------------------------------------------------

    def close(self) -> None:
        self.transport.unregisterProducer()
        self.transport.loseConnection()  # after the buffer is flushed

    def abort(self) -> None:
        self.transport.abortConnection()

    def pause_reading(self) -> None:
        self.transport.pauseProducing()  # stop reading from the peer

    def resume_reading(self) -> None:
        self.transport.resumeProducing()

    def call_later(self, delay: float, callback):
        return _reactor().callLater(delay, callback)

    def call_soon(self, callback, *args) -> None:
        if in_reactor():
            callback(*args)
        else:
            _reactor().callFromThread(callback, *args)

    def refuse(self, reply: bytes) -> None:
        self.transport.write(reply)
        self.transport.loseConnection()


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
        for connection in self.connections():
            connection.channel.abort()
            waits.append(connection.channel.lost)
        return DeferredList(waits)
