"""The line framer, fed every way a network can cut a stream."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.framing import (
    DO,
    IAC,
    SB,
    SE,
    WILL,
    BadLine,
    Line,
    LineFramer,
    TimingMark,
)

TOO_LONG = BadLine("LINE-TOO-LONG", "lines are limited to 512 bytes; line ignored")
BAD = BadLine("BAD-ENCODING", "lines must be printable ASCII; line ignored")


def feed_chunked(data: bytes, size: int, max_line: int = 512) -> list:
    framer = LineFramer(max_line)
    events = []
    for start in range(0, len(data), size):
        events += framer.feed(data[start : start + size])
    return events


def every_chunking(data: bytes) -> list[list]:
    """The events for every chunk size from 1 byte to the whole stream."""
    return [feed_chunked(data, size) for size in range(1, len(data) + 1)]


def test_lf_and_crlf_both_end_a_line():
    assert feed_chunked(b"deal\nhit\r\n", 100) == [Line("deal"), Line("hit")]


def test_only_a_trailing_cr_is_dropped():
    assert feed_chunked(b"a\r\r\n", 100) == [BAD]  # the first CR is inside the line
    assert feed_chunked(b"a\rb\n", 100) == [BAD]


def test_a_last_line_without_lf_counts_at_the_end_of_the_stream():
    framer = LineFramer()
    assert framer.feed(b"deal\nsco") == [Line("deal")]
    assert framer.feed_eof() == [Line("sco")]
    assert framer.feed_eof() == []
    framer = LineFramer()
    framer.feed(b"x" * 600)  # already reported as too long: nothing more
    assert framer.feed_eof() == []


def test_an_unfinished_line_waits():
    framer = LineFramer()
    assert framer.feed(b"de") == []
    assert framer.feed(b"al") == []
    assert framer.feed(b"\n") == [Line("deal")]


def test_every_chunking_gives_the_same_events():
    stream = b"deal\r\nHIT\n\n  stand  \r\n\x00bad\n" + b"x" * 600 + b"\nquit\n"
    expected = [Line("deal"), Line("HIT"), Line(""), Line("  stand  "), BAD]
    expected += [TOO_LONG, Line("quit")]
    for events in every_chunking(stream):
        assert events == expected


def test_tab_is_allowed_and_other_controls_are_not():
    assert feed_chunked(b"a\tb\n", 9) == [Line("a\tb")]
    for byte in [0x00, 0x07, 0x1B, 0x7F, 0x80, 0xC3]:
        assert feed_chunked(b"ok" + bytes([byte]) + b"\n", 9) == [BAD], hex(byte)


def test_the_limit_is_512_bytes_without_the_terminator():
    for terminator in (b"\n", b"\r\n"):
        for events in every_chunking(b"a" * 512 + terminator):
            assert events == [Line("a" * 512)]
        for events in every_chunking(b"a" * 513 + terminator):
            assert events == [TOO_LONG]


def test_a_long_line_is_reported_once_and_the_next_line_is_read():
    stream = b"x" * 100_000 + b"\r\nscore\n"
    for size in (1, 7, 511, 512, 513, 4096, len(stream)):
        assert feed_chunked(stream, size) == [TOO_LONG, Line("score")]


def test_memory_stays_bounded_however_long_a_line_is():
    framer = LineFramer()
    events = []
    for _ in range(1000):  # 64 MiB without a newline
        events += framer.feed(b"y" * 65536)
        assert framer.buffered <= 513
    assert events == [TOO_LONG]
    assert framer.feed(b"\nok\n") == [Line("ok")]


def test_a_pending_cr_at_the_limit_is_not_yet_too_long():
    framer = LineFramer()
    assert framer.feed(b"a" * 512 + b"\r") == []
    assert framer.feed(b"\n") == [Line("a" * 512)]
    assert framer.feed(b"a" * 512 + b"\r") == []
    assert framer.feed(b"b") == [TOO_LONG]


def test_telnet_negotiation_is_removed():
    stream = bytes([IAC, WILL, 1, IAC, DO, 3]) + b"de" + bytes([IAC, 0xF1]) + b"al\r\n"
    for events in every_chunking(stream):
        assert events == [Line("deal")]


def test_telnet_subnegotiation_is_removed_whole():
    stream = b"hi" + bytes([IAC, SB, 24, 0, 0x80, IAC, SE]) + b"t\n"
    for events in every_chunking(stream):
        assert events == [Line("hit")]


def test_iac_iac_is_a_data_byte_255_and_so_invalid():
    assert feed_chunked(bytes([IAC, IAC]) + b"x\n", 1) == [BAD]


# -- property tests: random lines, random telnet commands, random chunking ---

# The commands removed silently: not IP (0xF4), which discards the line, nor
# DO TIMING-MARK, which asks for an answer (both tested on their own below).
telnet_command = st.one_of(
    st.tuples(st.just(IAC), st.sampled_from([0xF1, 0xF3, 0xF9])),
    st.tuples(
        st.just(IAC), st.sampled_from([0xFB, 0xFC, 0xFD, 0xFE]), st.integers(0, 255)
    ).filter(lambda command: command[1:] != (0xFD, 0x06)),
    st.tuples(
        st.just(IAC), st.just(SB), st.binary(max_size=8).filter(lambda b: IAC not in b)
    ).map(lambda t: (*t[:2], *t[2], IAC, SE)),
).map(bytes)

line_body = st.lists(
    st.one_of(
        st.binary(min_size=1, max_size=40).filter(
            lambda b: b"\n" not in b and IAC not in b
        ),
        st.sampled_from([b"deal", b"a" * 300]),
    ),
    max_size=4,
).map(b"".join)


def expected_event(body: bytes):
    body = body[:-1] if body.endswith(b"\r") else body
    if len(body) > 512:
        return TOO_LONG
    if any(not (0x20 <= b < 0x7F or b == 0x09) for b in body):
        return BAD
    return Line(body.decode())


@given(
    lines=st.lists(
        st.tuples(line_body, st.lists(telnet_command, max_size=2)), max_size=6
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=20),
)
def test_random_streams_in_random_chunks(lines, cuts):
    stream = b""
    for body, commands in lines:
        middle = len(body) // 2
        stream += body[:middle] + b"".join(commands) + body[middle:] + b"\n"
    framer = LineFramer()
    events = []
    points = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    for start, end in itertools.pairwise(points):
        events += framer.feed(stream[start:end])
    assert events == [expected_event(body) for body, _ in lines]
    assert framer.buffered == 0


@pytest.mark.parametrize("max_line", [1, 8, 512])
def test_the_limit_is_a_knob(max_line):
    events = feed_chunked(
        b"a" * max_line + b"\n" + b"a" * (max_line + 1) + b"\n", 3, max_line
    )
    assert events[0] == Line("a" * max_line)
    assert isinstance(events[1], BadLine) and events[1].code == "LINE-TOO-LONG"


IP, DO_TIMING_MARK = b"\xff\xf4", b"\xff\xfd\x06"


@pytest.mark.parametrize("size", range(1, 10))
def test_telnet_ctrl_c_discards_the_unfinished_line_and_asks_for_a_mark(size):
    # What Debian's telnet sends for Ctrl-C after "sta" was typed, then "score".
    stream = b"deal\nsta" + IP + DO_TIMING_MARK + b"score\r\n"
    framer = LineFramer()
    events = []
    for start in range(0, len(stream), size):
        events += framer.feed(stream[start : start + size])
    assert events == [Line("deal"), TimingMark(), Line("score")]


def test_ctrl_c_after_a_too_long_line_starts_a_fresh_line():
    framer = LineFramer(max_line=4)
    assert [event.code for event in framer.feed(b"abcdefgh")] == ["LINE-TOO-LONG"]
    assert framer.feed(IP + b"hit\n") == [Line("hit")]


def test_timing_marks_come_in_order_with_the_lines():
    framer = LineFramer()
    events = framer.feed(b"a\n" + DO_TIMING_MARK + b"b\n" + DO_TIMING_MARK)
    assert events == [Line("a"), TimingMark(), Line("b"), TimingMark()]
    assert framer.feed(b"\xff\xfb\x06") == []  # WILL TIMING-MARK: no answer
