"""Hello servers as learners write them: one correct, then one bug each."""

from __future__ import annotations


def correct(listener) -> None:
    """Correct: greet by address with CRLF, close, accept the next."""
    while True:
        conn, address = listener.accept()
        with conn:
            conn.sendall(f"Hello {address[0]}\r\n".encode())


def lf_only(listener) -> None:
    """Bug: ends the greeting with '\\n' alone, not CRLF."""
    while True:
        conn, address = listener.accept()
        with conn:
            conn.sendall(f"Hello {address[0]}\n".encode())


def never_closes(listener) -> None:
    """Bug: greets and keeps the connection open, so the client waits for EOF."""
    kept = []
    while True:
        conn, address = listener.accept()
        conn.sendall(f"Hello {address[0]}\r\n".encode())
        kept.append(conn)


BUGS = {
    lf_only: {"crlf"},
    never_closes: {"closes"},
}
