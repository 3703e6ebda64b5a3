"""The command line, as docs/protocol.md ("The command line") specifies it."""

from __future__ import annotations

import re
import select
import signal
import socket
import subprocess
import sys
import time

import pexpect
import pytest
from support import ServeProcess


def run_labkit(
    *args: str, stdin: str = "", timeout: float = 10
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labkit", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


LOG_LINE = re.compile(r"\d\d:\d\d:\d\d \S.*")  # the time, then the event


@pytest.mark.parametrize("service", ["hello", "echo", "http"])
def test_serve_prints_exactly_listening_on_host_port_first(service):
    with ServeProcess(service) as server:
        assert re.fullmatch(r"listening on 127\.0\.0\.1:\d+", server.first_line)
        with socket.create_connection((server.host, server.port), timeout=5):
            pass


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_server_with_status_0(signum):
    server = ServeProcess("echo", "--transport", "iterative")
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"hi")
        assert sock.recv(2) == b"hi"
        assert server.stop(signum) == 0  # even with a client connected
    log = server.proc.stderr.read().splitlines()
    assert log and all(LOG_LINE.fullmatch(line) for line in log), log


def test_options_are_honoured():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [
        "echo",
        "--port",
        str(port),
        "--max-connections",
        "1",
        "--idle-timeout",
        "0.5",
    ]
    with ServeProcess(*args) as server:
        assert server.first_line == f"listening on 127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as first:
            first.sendall(b"x")
            assert first.recv(1) == b"x"
            with socket.create_connection(("127.0.0.1", port), timeout=5) as second:
                assert second.recv(100).startswith(b"ERROR BUSY ")
            first.settimeout(5)
            assert first.recv(1) == b""  # closed by the 0.5 s idle limit


def read_log_until(server: ServeProcess, event: str, log: list[str]) -> None:
    """Read the server's log lines into ``log`` until one ends with ``event``."""
    while not (log and log[-1].endswith(event)):
        ready, _, _ = select.select([server.proc.stderr], [], [], 5)
        assert ready, f"no {event!r} in the log within 5 s: {log}"
        log.append(server.proc.stderr.readline().rstrip("\n"))


def test_the_log_says_who_came_and_why_each_left():
    args = ["blackjack", "--max-connections", "2", "--idle-timeout", "0.5"]
    log: list[str] = []
    with ServeProcess(*args) as server:
        address = (server.host, server.port)
        with socket.create_connection(address, timeout=5) as quitter:
            quitter.sendall(b"QUIT\r\n")
            assert b"BYE" in quitter.recv(200) + quitter.recv(200)
        read_log_until(server, "closed (127.0.0.1): QUIT", log)  # counted out
        idler = socket.create_connection(address, timeout=5)
        with socket.create_connection(address, timeout=5) as second:
            with socket.create_connection(address, timeout=5) as third:
                assert b"ERROR BUSY" in third.recv(200)
            second.shutdown(socket.SHUT_WR)
            assert b"WELCOME" in second.recv(200)
        assert idler.recv(200).startswith(b"WELCOME")
        idler.settimeout(5)
        while idler.recv(200):  # the idle limit closes it
            pass
        idler.close()
        assert server.stop() == 0
    log += server.proc.stderr.read().splitlines()
    events = [line.split(" ", 1)[1] for line in log]
    assert all(LOG_LINE.fullmatch(line) for line in log), log
    assert events.count("connection from 127.0.0.1") == 3
    for why in ("QUIT", "EOF", "idle"):
        assert f"closed (127.0.0.1): {why}" in events, events
    assert "busy: turned away 127.0.0.1" in events
    assert "Traceback" not in "".join(log)


def test_quiet_logs_nothing_and_limits_can_be_set_or_turned_off():
    args = ["echo", "--quiet", "--max-line", "64", "--idle-timeout", "off"]
    with ServeProcess(*args) as server:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
        assert server.stop() == 0
    assert server.proc.stderr.read() == ""


def test_ipv6_address_is_bracketed():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("this machine has no ::1")
    with ServeProcess("hello", "--host", "::1") as server:
        assert re.fullmatch(r"listening on \[::1\]:\d+", server.first_line)


@pytest.mark.parametrize(
    "args",
    [
        ["serve"],
        ["serve", "gopher"],
        ["serve", "echo", "--transport", "pigeon"],
        ["serve", "echo", "--port", "70000"],
        ["serve", "echo", "--port", "-1"],
        ["serve", "echo", "--max-connections", "0"],
        ["serve", "echo", "--idle-timeout", "soon"],
        ["serve", "http", "--transport", "iterative"],
        ["serve", "echo", "--colour", "blue"],
        ["dance"],
    ],
)
def test_bad_arguments_get_one_line_and_status_2(args):
    result = run_labkit(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "error" in result.stderr


def test_a_taken_port_is_a_clear_message():
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = run_labkit("serve", "echo", "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port 0 picks a free one" in result.stderr  # the command line's words
    assert "Traceback" not in result.stderr


def test_telnet_shows_the_server_and_says_when_it_closes():
    with ServeProcess("hello") as server:
        result = run_labkit("telnet", server.host, str(server.port))
    assert result.stdout == "Hello 127.0.0.1\n"
    assert result.stderr.rstrip().endswith("Connection closed by the server.")
    assert result.returncode == 0


def test_telnet_sends_typed_lines_with_crlf():
    with ServeProcess("echo") as server:
        result = run_labkit("telnet", server.host, str(server.port), stdin="one\ntwo\n")
    # echo sends back the CRLF the client sent; telnet shows it as a newline
    assert result.stdout == "one\ntwo\n"
    assert "Connection closed by the server." in result.stderr


def test_telnet_to_nothing_fails_clearly():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_labkit("telnet", "127.0.0.1", str(port))
    assert result.returncode == 1
    assert "could not connect" in result.stderr and "Traceback" not in result.stderr


def test_a_wide_bind_warns_in_one_line():
    with ServeProcess("echo", "--host", "0.0.0.0", "--quiet") as server:
        assert re.fullmatch(r"listening on 0\.0\.0\.0:\d+", server.first_line)
        server.stop()
        warning = server.proc.stderr.read()
    assert warning.count("\n") == 1 and "every interface" in warning


# -- the command line in a terminal (a pseudo-terminal, as a person uses it) --

FIRST_PROMPT = {"telnet": "WELCOME labkit-blackjack/1", "play": "[d]eal or [q]uit? "}
LAST_LINE_AFTER_CTRL_D = {
    "telnet": "Connection closed by the server.",
    "play": "Server: see you next time",
}


def spawn_in_a_terminal(command: str, server: ServeProcess) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "labkit", command, server.host, str(server.port)],
        timeout=10,
        encoding="utf-8",
        # As a terminal's shell starts a command: with Ctrl-C's SIGINT at its
        # default, even when this test runs with it ignored (a CI job in the
        # background of a shell without job control).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    child.expect_exact(FIRST_PROMPT[command])
    return child


@pytest.mark.timeout(30)
@pytest.mark.parametrize("command", ["telnet", "play"])
def test_ctrl_c_ends_at_once_with_one_line_and_status_130(command):
    with ServeProcess("blackjack") as server:
        child = spawn_in_a_terminal(command, server)
        pressed = time.monotonic()
        child.sendintr()
        child.expect(pexpect.EOF, timeout=5)
        took = time.monotonic() - pressed
        child.close()
    assert child.exitstatus == 130, child.before
    assert took < 1.0, f"{command} took {took:.2f} s to end after Ctrl-C"
    assert "Traceback" not in child.before and "KeyboardInterrupt" not in child.before
    assert child.before.splitlines()[-1] == "Interrupted (Ctrl+C)."


@pytest.mark.timeout(30)
@pytest.mark.parametrize("command", ["telnet", "play"])
def test_ctrl_d_leaves_politely_with_status_0(command):
    with ServeProcess("blackjack") as server:
        child = spawn_in_a_terminal(command, server)
        child.sendeof()
        child.expect(pexpect.EOF, timeout=5)
        child.close()
    assert child.exitstatus == 0, child.before
    assert child.before.splitlines()[-1] == LAST_LINE_AFTER_CTRL_D[command]


@pytest.mark.parametrize("args", [[], ["serve"], ["telnet"], ["play"], ["bench"]])
def test_help_is_plain_text(args):
    result = run_labkit(*args, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: ")
    assert "``" not in result.stdout and ":class:" not in result.stdout


def test_a_long_typo_is_cut_in_the_error():
    typo = "x" * 2000
    result = run_labkit("serve", typo)
    assert result.returncode == 2
    assert "(2,000 characters)" in result.stderr and len(result.stderr) < 300


def test_play_cuts_a_long_typo_and_plays_on():
    with ServeProcess("blackjack") as server:
        result = run_labkit(
            "play", server.host, str(server.port), stdin="q" * 2000 + "\nscore\nq\n"
        )
    assert result.returncode == 0
    unknown = [line for line in result.stdout.splitlines() if "Unknown: " in line]
    assert len(unknown) == 1 and "(2,000 characters)" in unknown[0]
    assert len(unknown[0]) < 200
    assert "Score: 0 won, 0 lost, 0 pushed." in result.stdout


def test_an_address_this_machine_lacks_is_a_clear_message():
    result = run_labkit("serve", "echo", "--host", "192.0.2.1")  # TEST-NET-1
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no network interface of this machine has the address 192.0.2.1" in (
        result.stderr
    )
