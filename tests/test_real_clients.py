"""Debian's real telnet and nc against labkit servers (required in CI)."""

from __future__ import annotations

import subprocess

import pexpect
import pytest
from support import ServeProcess, require_program

pytestmark = pytest.mark.realclient


@pytest.mark.parametrize("transport", ["threaded", "iterative"])
def test_telnet_gets_hello(transport):
    telnet = require_program("telnet")
    with ServeProcess("hello", "--transport", transport) as server:
        session = pexpect.spawn(telnet, [server.host, str(server.port)], timeout=10)
        session.expect_exact("Hello 127.0.0.1\r\n")
        session.expect_exact("Connection closed by foreign host.")
        session.expect(pexpect.EOF)


def test_telnet_types_into_echo():
    telnet = require_program("telnet")
    with ServeProcess("echo") as server:
        session = pexpect.spawn(telnet, [server.host, str(server.port)], timeout=10)
        session.expect_exact("Escape character is")
        session.sendline("are you there?")
        session.expect_exact("are you there?\r\n")  # the terminal's echo ...
        session.expect_exact("are you there?\r\n")  # ... and the server's
        session.sendcontrol("]")
        session.expect_exact("telnet>")
        session.sendline("quit")
        session.expect(pexpect.EOF)


def test_nc_half_closes_and_gets_every_byte_back():
    nc = require_program("nc")
    payload = "".join(f"line {n}\n" for n in range(2000))
    with ServeProcess("echo") as server:
        result = subprocess.run(
            [nc, "-N", server.host, str(server.port)],
            input=payload,
            capture_output=True,
            text=True,
            timeout=10,
        )
    assert result.returncode == 0
    assert result.stdout == payload


def test_nc_gets_hello():
    nc = require_program("nc")
    with ServeProcess("hello", "--transport", "iterative") as server:
        result = subprocess.run(
            [nc, server.host, str(server.port)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
        )
    assert result.stdout == b"Hello 127.0.0.1\r\n"
