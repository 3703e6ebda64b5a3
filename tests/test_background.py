"""Background servers as a notebook uses them: start, re-run, stop."""

from __future__ import annotations

import socket

import pytest
from support import labkit_threads, wait_until

import labkit


@pytest.fixture(autouse=True)
def stop_everything():
    yield
    labkit.stop_all()
    assert wait_until(lambda: labkit_threads() == []), labkit_threads()


def test_serve_returns_a_server_that_already_accepts():
    server = labkit.serve("hello")
    with labkit.LineClient(server) as client:
        assert client.read_all() == ["Hello 127.0.0.1"]
    assert server.running and server in labkit.running()


def test_rerunning_a_cell_replaces_the_server():
    first = labkit.serve("echo")
    second = labkit.serve("echo")
    assert not first.running and second.running
    assert labkit.running() == [second]


def test_rerunning_on_a_fixed_port_replaces_the_server():
    first = labkit.serve("echo")
    port = first.port
    first.stop()
    fixed = labkit.serve("echo", port=port)
    again = labkit.serve("hello", port=port)  # another service, same port
    assert not fixed.running and again.port == port
    with labkit.LineClient(again) as client:
        assert client.read_line() == "Hello 127.0.0.1"


def test_named_servers_run_side_by_side():
    one = labkit.serve("echo", name="one")
    two = labkit.serve("echo", name="two")
    assert one.running and two.running and one.port != two.port


def test_a_taken_port_raises_in_the_cell_with_what_to_do():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(labkit.PortInUseError) as caught:
            labkit.serve("echo", port=port)
    message = str(caught.value)
    assert f"port {port}" in message and "port=0" in message


def test_unknown_names_list_the_choices():
    with pytest.raises(ValueError, match="choose one of: hello, echo"):
        labkit.serve("ehco")
    with pytest.raises(ValueError, match="threaded, iterative"):
        labkit.serve("echo", "carrier-pigeon")


def test_context_manager_and_stop_all():
    with labkit.serve("echo", name="scoped") as server:
        assert server.running
    assert not server.running
    servers = [labkit.serve("echo", name=str(n)) for n in range(3)]
    labkit.stop_all()
    assert not any(s.running for s in servers) and labkit.running() == []


def test_the_line_client_times_out_and_says_why():
    server = labkit.serve("echo")
    with labkit.LineClient(server, timeout=0.2) as client:
        with pytest.raises(TimeoutError, match="no line from the server within 0.2 s"):
            client.read_line()


def test_connecting_to_nothing_says_what_to_do():
    server = labkit.serve("echo")
    address = server.address
    server.stop()
    with pytest.raises(ConnectionRefusedError, match="start the server first"):
        labkit.LineClient(address)


def test_http_get_fetches_the_bundled_page_offline():
    server = labkit.serve("http")
    response = labkit.http_get(server, path="/index.html")
    assert response.status == 200
    assert response.headers["content-type"] == "text/html"
    assert "<title>labkit" in response.text
    assert labkit.http_get(server, path="/missing.html").status == 404
    assert any('"GET /index.html HTTP/1.0" 200' in line for line in server.log)


def test_http_accepts_the_lectures_bare_newlines():
    server = labkit.serve("http")
    with socket.create_connection(server.address, timeout=5) as sock:
        sock.sendall(b"GET /index.html HTTP/1.0\n\n")  # the lecture's request
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.0 200 OK\r\n")


def test_http_stops_with_a_silent_client_connected():
    server = labkit.serve("http")
    with socket.create_connection(server.address, timeout=5):
        assert wait_until(lambda: server.stats.open == 1)
        assert server.stop()
