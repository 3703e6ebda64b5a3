"""Sessions without sockets: bytes in, bytes out, a clock we control."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.limits import Limits
from labkit.services import EchoSession, HelloSession
from labkit.session import LineSession, Session, protocol_line


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def line_session(idle_timeout=10.0, clock=None) -> LineSession:
    limits = Limits(idle_timeout=idle_timeout)
    session = LineSession("127.0.0.1", limits, clock=clock or FakeClock())
    session.connection_made()
    return session


def replies(session, data: bytes) -> list[str]:
    out = session.data_received(data)
    assert out == b"" or out.endswith(b"\r\n")
    return out.decode("ascii").split("\r\n")[:-1]


def test_hello_greets_the_peer_and_closes():
    session = HelloSession("192.0.2.7")
    assert session.connection_made() == b"Hello 192.0.2.7\r\n"
    assert session.closing


@given(st.binary(max_size=2000), st.integers(1, 300))
def test_echo_returns_every_byte_in_order(data, size):
    session = EchoSession("127.0.0.1")
    out = session.connection_made()
    for start in range(0, len(data), size):
        out += session.data_received(data[start : start + size])
    assert out == data
    assert not session.closing


def test_empty_lines_get_no_answer_and_quit_says_bye():
    session = line_session()
    assert replies(session, b"\n  \r\n\t\n") == []
    assert replies(session, b"  qUiT  \r\n") == ["BYE see you next time"]
    assert session.closing


def test_nothing_after_quit_is_read():
    session = line_session()
    assert replies(session, b"quit\nfoo\nbar\n") == ["BYE see you next time"]


@pytest.mark.parametrize(
    "data, code",
    [
        (b"dance\n", "UNKNOWN-COMMAND"),
        (b"caf\xc3\xa9\n", "BAD-ENCODING"),
        (b"x" * 513 + b"\n", "LINE-TOO-LONG"),
    ],
)
def test_a_rejected_line_gets_exactly_one_error_and_the_session_goes_on(data, code):
    session = line_session()
    (answer,) = replies(session, data)
    assert answer.startswith(f"ERROR {code} ")
    assert not session.closing
    assert replies(session, b"quit\n") == ["BYE see you next time"]


def test_server_lines_are_printable_ascii_even_when_echoing_a_command():
    session = line_session()
    (answer,) = replies(session, b"do\tit\n")
    assert all(" " <= ch <= "~" for ch in answer)
    assert protocol_line("caf\u00e9\x00") == b"caf??\r\n"
    busy = Session.busy_reply(3)
    assert busy.startswith(b"ERROR BUSY ") and busy.endswith(b"\r\n")


def test_idle_limit_counts_complete_lines_only():
    clock = FakeClock()
    session = line_session(idle_timeout=10.0, clock=clock)
    assert session.deadline == 1010.0
    clock.now = 1009.0
    session.data_received(b"sco")  # a slow drip: bytes but no line
    assert session.deadline == 1010.0
    session.data_received(b"re\n")  # a complete line is activity
    assert session.deadline == 1019.0
    clock.now = 1018.9
    assert session.deadline_passed() == b""  # early: nothing happens
    assert not session.closing
    clock.now = 1019.0
    assert session.deadline_passed().startswith(b"ERROR IDLE-TIMEOUT ")
    assert session.closing


def test_no_idle_limit_means_no_deadline():
    assert line_session(idle_timeout=None).deadline is None


def test_echo_idle_limit_closes_quietly():
    clock = FakeClock()
    session = EchoSession("127.0.0.1", Limits(idle_timeout=5.0), clock=clock)
    session.connection_made()
    clock.now += 4
    assert session.data_received(b"x") == b"x"
    assert session.deadline == clock.now + 5
    clock.now += 5
    assert session.deadline_passed() == b"" and session.closing


def test_eof_ends_a_session_after_answering_an_unfinished_last_line():
    session = line_session()
    # like `printf 'quit' | nc -N host port`
    assert session.data_received(b"quit") == b""
    assert session.eof_received() == b"BYE see you next time\r\n"
    assert session.closing
