"""echo: every byte back, unchanged and in order, until the client closes."""

from __future__ import annotations

import random
import socket
import struct

from .runner import Case, CaseFailed, Probe, shown

CLIENTS = 5
ROUNDS = 3
MESSAGES = 200
LARGE = 1024 * 1024
HALF_CLOSE = 100 * 1000
# Every byte value, both ways, then a newline (a line-reading server gets a
# whole line and is still caught: it is not the newline this case is about).
BINARY = bytes(range(256)) + bytes(range(255, -1, -1)) + b"\n"


def _first_difference(one: bytes, other: bytes) -> int:
    pairs = zip(one, other, strict=False)
    return next(
        (i for i, (a, b) in enumerate(pairs) if a != b), min(len(one), len(other))
    )


def _round_trip(conn, message: bytes, expected: str) -> None:
    conn.send(message)
    back = conn.read_bytes(len(message), expected)
    if back != message:
        raise CaseFailed(expected)


def one_message(probe: Probe) -> None:
    _round_trip(probe.connect(), b"ping\r\n", "ping\\r\\n back")


def binary(probe: Probe) -> None:
    conn = probe.connect()
    conn.send(BINARY, as_text=f"the byte values 0 to 255 and back ({len(BINARY)})")
    back = conn.read_bytes(len(BINARY), f"the same {len(BINARY)} bytes back")
    if back != BINARY:
        where = _first_difference(back, BINARY)
        raise CaseFailed(
            f"the same {len(BINARY)} bytes back; byte {where} was "
            f"{BINARY[where]:#04x}, came back as {back[where]:#04x}"
        )


def large_message(probe: Probe) -> None:
    payload = random.Random(1).randbytes(LARGE - 1) + b"\n"
    back, _ = probe.connect().stream(payload)
    _compare(back, payload)


def _compare(back: bytes, payload: bytes) -> None:
    if back == payload:
        return
    size = f"all {len(payload):,} bytes back, in order"
    if len(back) < len(payload) and payload.startswith(back):
        raise CaseFailed(f"{size}; only the first {len(back):,} came back")
    if len(back) > len(payload):
        raise CaseFailed(f"{size}; {len(back):,} came back")
    where = _first_difference(back, payload)
    raise CaseFailed(f"{size}; they differ from byte {where:,} on")


def many_messages(probe: Probe) -> None:
    conn = probe.connect()
    for number in range(1, MESSAGES + 1):
        _round_trip(conn, f"message {number}\n".encode(), f"message {number} back")


def half_close(probe: Probe) -> None:
    data = random.Random(2).randbytes(HALF_CLOSE)
    payload = data.replace(b"\n", b".") + b"no newline at the end"
    back, closed = probe.connect().stream(payload, half_close=True)
    _compare(back, payload)
    if not closed:
        raise CaseFailed(
            "the server to close once it has sent everything back",
            "recv returns b'' when the client has closed its side: send what "
            "is left, then close the connection",
        )


def several_clients(probe: Probe) -> None:
    conns = [probe.connect(str(number)) for number in range(1, CLIENTS + 1)]
    for turn in range(1, ROUNDS + 1):
        for number, conn in enumerate(conns, 1):
            conn.send(f"client {number} message {turn}\n".encode())
        for number, conn in enumerate(conns, 1):
            message = f"client {number} message {turn}\n".encode()
            expected = (
                f"an echo on connection {number} while the other "
                f"{CLIENTS - 1} stay open"
            )
            if conn.read_bytes(len(message), expected) != message:
                raise CaseFailed(expected)


def survives_reset(probe: Probe) -> None:
    conn = probe.connect("1")
    conn.send(b"x" * 100_000, as_text="100,000 bytes, then a reset (RST)")
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # unread data and SO_LINGER 0: the kernel sends RST
    conn = probe.connect("2")
    message = b"still there?\n"
    conn.send(message)
    if conn.read_bytes(len(message), "an echo on a new connection") != message:
        raise CaseFailed(f"{shown(message)} back on a new connection")


CASES = [
    Case(
        "one-message",
        "echo",
        "a short message comes back",
        "after accept(), loop: data = conn.recv(4096); if not data: break; "
        "conn.sendall(data)",
        one_message,
    ),
    Case(
        "binary",
        "bytes, not text",
        "every byte value 0 to 255 comes back unchanged",
        "echo is a byte stream: send back the bytes recv returned; decoding to "
        "str and encoding again changes bytes that are not text",
        binary,
    ),
    Case(
        "large-message",
        "framing",
        "1 MB sent while reading comes back whole and in order",
        "recv returns part of what was sent, and send may send only part: loop "
        "on recv and use sendall, and echo as you read rather than after",
        large_message,
    ),
    Case(
        "many-messages",
        "framing",
        f"{MESSAGES} messages on one connection each come back",
        "keep the connection open and loop on recv until it returns b''; one "
        "recv is not one conversation",
        many_messages,
    ),
    Case(
        "half-close",
        "the end of a session",
        "after the client's SHUT_WR the server sends back everything, then closes",
        "recv returns b'' when the client has shut its sending side: send back "
        "everything you still hold (a line without its newline too), then close",
        half_close,
    ),
    Case(
        "several-clients",
        "concurrency",
        f"{CLIENTS} clients at once, their messages interleaved, are all echoed",
        "the server serves one client at a time: while it loops on one "
        "connection the others wait in the listen backlog. Handle each "
        "accepted connection in its own thread: "
        "threading.Thread(target=handle, args=(conn,)).start()",
        several_clients,
    ),
    Case(
        "survives-reset",
        "robustness",
        "a client that resets its connection does not stop the server",
        "a peer may vanish: catch ConnectionResetError and BrokenPipeError "
        "around one client's recv and send, close that connection, and go on",
        survives_reset,
    ),
]
