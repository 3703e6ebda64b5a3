"""``python -m labkit telnet HOST PORT``: a line client for machines without telnet."""

from __future__ import annotations

import socket
import sys
import threading

from ..addresses import format_address


def telnet(host: str, port: int, *, timeout: float = 5.0) -> int:
    """Show what the server sends; send each typed line with CRLF.

    The socket is read in the main thread and standard input in a daemon
    thread, so the program ends as soon as the server closes, even while
    input() is still waiting for a line.
    """
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        print(
            f"could not connect to {format_address(host, port)}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    print(
        f"Connected to {format_address(host, port)}. "
        "Type a line and press Enter; Ctrl+D leaves.",
        file=sys.stderr,
        flush=True,
    )
    input_done = threading.Event()

    def send_typed_lines() -> None:
        try:
            for line in sys.stdin:
                sock.sendall(line.rstrip("\r\n").encode("ascii", "replace") + b"\r\n")
            sock.shutdown(socket.SHUT_WR)  # tell the server we are done
        except OSError:
            pass
        input_done.set()

    threading.Thread(
        target=send_typed_lines, name="labkit-telnet-input", daemon=True
    ).start()
    out = sys.stdout
    sock.settimeout(1.0)
    quiet_after_input = 0.0
    while True:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            # Once input has ended, give the server a few seconds to close.
            if input_done.is_set():
                quiet_after_input += 1.0
                if quiet_after_input >= timeout:
                    print("No more from the server; closing.", file=sys.stderr)
                    break
            continue
        except OSError as exc:
            print(f"Connection lost: {exc.strerror or exc}", file=sys.stderr)
            break
        if not data:
            print("Connection closed by the server.", file=sys.stderr, flush=True)
            break
        out.write(data.decode("ascii", "replace").replace("\r\n", "\n"))
        out.flush()
    sock.close()
    return 0
