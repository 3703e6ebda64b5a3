"""hello: one line, ``Hello <client-ip>`` with CRLF, then the server closes."""

from __future__ import annotations

from .runner import Case, CaseFailed, Probe

CONNECTIONS = 10  # one after another, for the accept loop


def _greeting(probe: Probe) -> tuple[str, bytes, str]:
    conn = probe.connect()
    ip = conn.sock.getsockname()[0]
    line = conn.read_line(f"Hello {ip}")
    return line, conn.endings[-1], ip


def greeting(probe: Probe) -> None:
    line, _, ip = _greeting(probe)
    if line != f"Hello {ip}":
        raise CaseFailed(f"Hello {ip}")


def crlf(probe: Probe) -> None:
    line, ending, ip = _greeting(probe)
    if not line.startswith("Hello "):
        raise CaseFailed(f"the greeting, Hello {ip}, ended with CRLF")
    if ending != b"\r\n":
        raise CaseFailed(f"{line!r} ended with CRLF (\\r\\n), not {ending!r}")


def closes(probe: Probe) -> None:
    conn = probe.connect()
    conn.read_line("the greeting")
    conn.expect_close("the server to close the connection after the greeting")


def one_after_another(probe: Probe) -> None:
    for number in range(1, CONNECTIONS + 1):
        conn = probe.connect(str(number))
        ip = conn.sock.getsockname()[0]
        if conn.read_line(f"Hello {ip} on connection {number}") != f"Hello {ip}":
            raise CaseFailed(f"Hello {ip} on connection {number}")
        conn.close()


CASES = [
    Case(
        "greeting",
        "the greeting",
        "the server greets each client with Hello <client-ip>",
        "accept() returns (conn, address): send 'Hello ' + address[0] on conn, "
        "before reading anything",
        greeting,
    ),
    Case(
        "crlf",
        "framing",
        "the greeting ends with CRLF, as telnet expects",
        "end the line with '\\r\\n', not '\\n': send(f'Hello {ip}\\r\\n'.encode())",
        crlf,
    ),
    Case(
        "closes",
        "the end of a session",
        "the server closes the connection after the greeting",
        "call conn.close() after sendall: the client reads until recv returns b''",
        closes,
    ),
    Case(
        "one-after-another",
        "the accept loop",
        f"{CONNECTIONS} clients one after another are each greeted",
        "put accept() in a loop (while True:), and let nothing one client does "
        "end the loop",
        one_after_another,
    ),
]
