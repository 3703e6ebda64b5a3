"""Plain-socket helpers the socket-level test files share."""

from __future__ import annotations

import socket
import struct


def connect(server, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(server.address, timeout=timeout)


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        assert chunk, f"closed after {data!r}"
        data += chunk
    return data


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
