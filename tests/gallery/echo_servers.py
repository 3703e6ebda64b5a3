"""Echo servers as learners write them: one correct, then one bug each."""

from __future__ import annotations

import threading


def handler(function):
    """Serve each accepted connection with ``function`` in its own thread."""

    def quietly(conn) -> None:
        try:
            function(conn)
        except OSError:  # a reset by the checker's survives-reset case
            conn.close()

    def serve(listener) -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(
                target=quietly, args=(conn,), name="gallery-handler", daemon=True
            ).start()

    serve.__doc__ = function.__doc__
    return serve


def echo(conn) -> None:
    """Correct: loop on recv, sendall what came, close at EOF."""
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)


correct = handler(echo)


def no_threads(listener) -> None:
    """Bug: no threads. One client at a time; the others wait in the backlog."""
    while True:
        conn, _ = listener.accept()
        try:
            echo(conn)
        except OSError:
            pass


@handler
def decodes_text(conn) -> None:
    """Bug: decodes to str and encodes back, so bytes that are not UTF-8 change."""
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data.decode("utf-8", errors="replace").encode("utf-8"))


@handler
def one_recv(conn) -> None:
    """Bug: no recv loop. One recv, one send, close: the rest is lost."""
    with conn:
        conn.sendall(conn.recv(1024))


@handler
def drops_tail_at_eof(conn) -> None:
    """Bug: echoes whole lines only, and at EOF drops a last line without b'\\n'."""
    with conn:
        buffer = b""
        while data := conn.recv(4096):
            buffer += data
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                conn.sendall(line + b"\n")


BUGS = {  # server: the cases that fail
    no_threads: {"several-clients"},
    decodes_text: {"binary", "large-message", "half-close"},
    one_recv: {"large-message", "many-messages", "half-close", "several-clients"},
    drops_tail_at_eof: {"half-close"},
}
