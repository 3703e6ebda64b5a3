"""labkit.run_server: a learner's server function, run, replaced and stopped.

Real sockets and threads. The servers are written as a learner writes them
in a cell: a function that takes the listening socket and runs the accept loop.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import pytest
from support import wait_until

import labkit
from labkit.background import current
from labkit.check import CannotConnect

pytestmark = pytest.mark.timeout(30)


def threaded_echo(s):
    def handle(c):
        with c:
            while data := c.recv(4096):
                c.sendall(data)

    while True:
        c, a = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def stuck_in_recv(s):
    c, a = s.accept()
    c.recv(1024)  # the client never sends
    c.recv(1024)  # and after the stop: recv on a closed socket raises


def stuck_in_accept(s):
    s.accept()


def spinning(s):
    def handle(c):
        c.close()
        while not done.is_set():  # pure Python: no socket to close under it
            pass

    while True:
        c, a = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


done = threading.Event()


def talk(address, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(address, timeout=timeout) as client:
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client.recv(4096):
            received += chunk
        return received


@pytest.fixture
def run(no_leaks):
    """run(function, **options): labkit.run_server, stopped after the test."""
    servers = []

    def run_server(function, **options):
        server = labkit.run_server(function, **options)
        servers.append(server)
        return server

    yield run_server
    for server in servers:
        server.stop()


def timed_stop(server) -> float:
    began = time.monotonic()
    stopped = server.stop()
    took = time.monotonic() - began
    assert stopped, server.message
    return took


def test_a_threaded_echo_function_serves_several_clients(run):
    server = run(threaded_echo)
    assert server.running and server.host == "127.0.0.1" and server.port > 0
    assert server.address == (server.host, server.port)
    assert threading.current_thread() is not server.thread
    assert server.thread.name.startswith("labkit-") and server.thread.daemon
    first = socket.create_connection(server.address, timeout=5)
    with first:
        # a second client is served while the first one is still open
        assert talk(server.address, b"\x00\xffbinary\r\n") == b"\x00\xffbinary\r\n"
        first.sendall(b"first")
        assert first.recv(100) == b"first"
    assert "is running: it has accepted 2 connections" in server.message
    assert repr(server).startswith("<LearnerServer threaded_echo on 127.0.0.1:")
    assert server in labkit.running() and not server.errors
    assert timed_stop(server) < 2
    assert not server.running and not server.threads
    assert "threaded_echo is stopped" in server.message and "But" not in server.message
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.address, timeout=5)


def test_running_it_again_replaces_it(run):
    first = run(threaded_echo)
    second = run(threaded_echo)
    assert not first.running and second.running and first.port != second.port
    assert current(first) is second  # what a widget given `first` follows
    assert talk(second.address, b"hi") == b"hi"
    other = run(threaded_echo, name="another")  # another name: side by side
    assert second.running and other.running and other.name == "another"
    labkit.stop_all()
    assert not second.running and not other.running


def test_a_server_stuck_in_recv_stops_within_2_s(run):
    server = run(stuck_in_recv)
    with socket.create_connection(server.address, timeout=5) as client:
        assert wait_until(lambda: server._accepted == 1)
        took = timed_stop(server)
        assert client.recv(10) == b""  # the server's end was closed
    print(f"stuck in recv: stopped in {took * 1000:.1f} ms")
    assert took < 2, f"took {took:.2f} s"
    assert not server.errors, server.errors  # the stop's own OSError is no bug


def test_a_server_stuck_in_accept_stops_within_2_s(run):
    server = run(stuck_in_accept)
    assert wait_until(lambda: server.running)
    took = timed_stop(server)
    print(f"stuck in accept: stopped in {took * 1000:.1f} ms")
    assert took < 2, f"took {took:.2f} s"
    assert not server.errors and not server.thread.is_alive()


def test_catching_every_exception_around_accept_does_not_spin_after_stop(run):
    def forgiving(s):
        while True:
            try:
                c, a = s.accept()
                c.close()
            except Exception:
                continue

    server = run(forgiving)
    assert timed_stop(server) < 2


def test_a_spinning_handler_is_said_plainly(run):
    done.clear()
    server = run(spinning)
    try:
        socket.create_connection(server.address, timeout=5).close()
        assert wait_until(lambda: len(server.threads) == 1)
        began = time.monotonic()
        assert not server.stop(timeout=0.5)
        assert time.monotonic() - began < 2
        assert not server.running and not server.thread.is_alive()
        assert "But 1 thread it started is still running" in server.message
        assert "pure Python" in server.message
    finally:
        done.set()
    assert wait_until(lambda: not server.threads)
    assert "But" not in server.message


def test_exceptions_are_kept_not_printed(run, capfd):
    def broken(s):
        def handle(c):
            c.close()
            raise ValueError("bad input")

        c, a = s.accept()
        threading.Thread(target=handle, args=(c,)).start()
        c2, a = s.accept()
        c2.close()
        raise RuntimeError("the accept loop broke")

    server = run(broken)
    for _ in range(2):
        socket.create_connection(server.address, timeout=5).close()
    assert wait_until(lambda: not server.thread.is_alive() and not server.threads)
    kinds = sorted(type(error).__name__ for error in server.errors)
    assert kinds == ["RuntimeError", "ValueError"], server.errors
    assert "stopped with an error: " in server.message
    assert not server.running
    with pytest.raises(ConnectionRefusedError):  # the listener is closed
        socket.create_connection(server.address, timeout=5)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


def test_a_stub_fails_at_once_and_says_why(run):
    def my_server(s):
        raise NotImplementedError("write your server here")

    server = run(my_server)
    assert wait_until(lambda: not server.thread.is_alive())
    assert isinstance(server.errors[0], NotImplementedError)
    assert server.message.startswith(
        "my_server stopped with an error: NotImplementedError: write your server"
    )
    # A check of it says the same, not only that nothing listens.
    with pytest.raises(CannotConnect) as caught:
        labkit.check("echo", server)
    assert str(caught.value).endswith(server.message)


def test_a_function_that_returns_says_so(run):
    def once(s):
        c, a = s.accept()
        c.sendall(b"Hello\r\n")
        c.close()

    server = run(once)
    assert talk(server.address, b"") == b"Hello\r\n"
    assert wait_until(lambda: not server.running)
    assert "once returned" in server.message and not server.errors


def test_wrong_functions_are_refused_in_the_cell():
    with pytest.raises(TypeError, match="one argument"):
        labkit.run_server(lambda: None)
    with pytest.raises(TypeError, match="not async def"):

        async def coroutine(s):
            pass

        labkit.run_server(coroutine)


def test_widgets_and_targets_take_the_handle(run):
    from labkit.addresses import resolve_address
    from labkit.widgets.echo import EchoConsole

    server = run(threaded_echo)
    assert resolve_address(server) == server.address
    console = EchoConsole(server)
    try:
        assert console.connected and console.server is server
        again = run(threaded_echo)  # the cell run again: Reconnect follows
        assert console.reconnect() and console.address == again.address
        again.stop()
        assert not console.reconnect()
        assert "Run the cell that starts the server again" in console.message
    finally:
        console.close()


def test_errors_are_kept_after_another_excepthook_is_installed(run, capfd):
    def handler_raises(s):
        def handle(c):
            c.close()
            raise ValueError("in a handler")

        while True:
            c, a = s.accept()
            threading.Thread(target=handle, args=(c,)).start()

    run(threaded_echo)  # labkit's hook is in place
    seen = []
    before = threading.excepthook
    threading.excepthook = seen.append  # as another library might
    try:
        server = run(handler_raises)
        socket.create_connection(server.address, timeout=5).close()
        assert wait_until(lambda: server.errors), server.message
        assert isinstance(server.errors[0], ValueError) and not seen
    finally:
        threading.excepthook = before
    assert "Traceback" not in "".join(capfd.readouterr())


# -- a socketserver handler class, the lecture's SocketServer way -------------


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            while data := self.request.recv(4096):
                self.request.sendall(data)
        except ConnectionResetError:
            pass  # survives-reset: that client is gone


class StuckHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(1024)  # the client never sends


class BrokenHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"about to fail\n")
        raise ValueError("a bug in handle")


def test_a_handler_class_is_served_by_a_threading_tcp_server(run):
    server = run(EchoHandler)
    assert server.name == "EchoHandler"
    assert server.message == "EchoHandler is running: it has accepted 0 connections."
    report = labkit.check("echo", server)
    assert report.ok and report.passed == report.total == 7, str(report)
    assert not server.errors, server.errors
    with socket.create_connection(server.address, timeout=5) as client:
        client.sendall(b"open")
        assert client.recv(100) == b"open"
        assert server.threads, "a thread per connection, counted"
        took = timed_stop(server)
    assert took < 2, f"took {took:.2f} s"
    assert not server.thread.is_alive() and not server.threads
    assert "EchoHandler is stopped" in server.message and "But" not in server.message
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.address, timeout=5)


def test_running_a_handler_class_again_replaces_it(run):
    first = run(EchoHandler)
    second = run(EchoHandler)
    assert not first.running and second.running and current(first) is second
    assert talk(second.address, b"hi") == b"hi"


def test_a_handler_stuck_in_recv_stops_within_2_s(run):
    server = run(StuckHandler)
    with socket.create_connection(server.address, timeout=5) as client:
        assert wait_until(lambda: server._accepted == 1 and server.threads)
        took = timed_stop(server)
        assert client.recv(10) == b""  # the server's end was closed
    print(f"handler stuck in recv: stopped in {took * 1000:.1f} ms")
    assert took < 2, f"took {took:.2f} s"
    assert not server.thread.is_alive() and not server.threads
    assert not server.errors, server.errors  # the stop's own OSError is no bug


def test_a_handler_that_raises_is_kept_not_printed(run, capfd):
    server = run(BrokenHandler)
    for _ in range(2):
        assert talk(server.address, b"") == b"about to fail\n"
    assert wait_until(lambda: len(server.errors) == 2), server.message
    assert all(isinstance(error, ValueError) for error in server.errors)
    assert server.running, "one handler's exception ends its thread only"
    assert "the last ValueError: a bug in handle" in server.message
    assert timed_stop(server) < 2
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "a bug in handle" not in out + err
