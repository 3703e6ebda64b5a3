"""Blackjack clients written as learners write them, each with one typical bug.

Each is ``play(host, port, rounds)`` with plain ``socket`` code, as in
exercise 5; :func:`correct` plays right. tests/test_check_blackjack_client.py
checks that ``labkit.check("blackjack-client", play)`` catches every bug
by the case that names it (``BUGS``: the cases each one fails; ``MAY``:
cases one may fail too, or not, as its recv calls happen to fall).
"""

from __future__ import annotations

import socket
import time


def strategy(total: int, upcard: str) -> str:
    return "HIT" if total < 17 else "STAND"


class Lines:
    """Lines from a socket: a buffer, cut at each newline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def __call__(self) -> str:
        while b"\n" not in self.buffer:
            data = self.sock.recv(1024)
            if not data:
                raise ConnectionError("the server closed the connection")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode().rstrip("\r")


def play_round(sock, line, *, after_end: bool = False) -> None:
    """DEAL, then HIT or STAND at each TURN, until SCORE."""
    sock.sendall(b"DEAL\r\n")
    upcard, total = "", 0
    while True:
        words = line().split()
        if words[:3] == ["HAND", "DEALER", "?"]:
            upcard = words[3]
        elif words[:2] == ["HAND", "PLAYER"]:
            total = int(words[2])
            if after_end and total >= 21:
                sock.sendall(b"STAND\r\n")  # the bug: the round is already over
        elif words[:1] == ["TURN"]:
            sock.sendall(f"{strategy(total, upcard)}\r\n".encode())
        elif words[:1] == ["SCORE"]:
            return
        elif words[:1] == ["ERROR"]:
            continue


def correct(host, port, rounds):
    with socket.create_connection((host, port)) as s:
        line = Lines(s)
        line()  # WELCOME
        for _ in range(rounds):
            play_round(s, line)
        s.sendall(b"QUIT\r\n")
        while not line().startswith("BYE"):
            pass


def one_recv_per_line(host, port, rounds):
    """Bug: one recv per line it expects, and a fixed number of them (the
    exercise's starter): lines in pieces, or several in one recv, lose it."""
    s = socket.create_connection((host, port))
    s.recv(1024)  # WELCOME
    for _ in range(rounds):
        s.sendall(b"DEAL\r\n")
        dealer = s.recv(1024).decode().split()
        player = s.recv(1024).decode().split()
        s.recv(1024)  # TURN
        while strategy(int(player[2]), dealer[3]) == "HIT":
            s.sendall(b"HIT\r\n")
            player = s.recv(1024).decode().split()
            s.recv(1024)  # TURN
        s.sendall(b"STAND\r\n")
        s.recv(1024)  # the result
    s.sendall(b"QUIT\r\n")
    s.close()


def splits_each_recv(host, port, rounds):
    """Bug: splits what each recv returns into lines, but keeps no buffer: a
    line cut in two becomes two broken lines."""
    with socket.create_connection((host, port)) as s:
        pending: list[str] = []

        def line() -> str:
            while not pending:
                data = s.recv(1024)
                if not data:
                    raise ConnectionError("closed")
                pending.extend(data.decode().splitlines())
            return pending.pop(0)

        line()
        for _ in range(rounds):
            play_round(s, line)
        s.sendall(b"QUIT\r\n")
        while not line().startswith("BYE"):
            pass


def drops_the_rest(host, port, rounds):
    """Bug: reads until a newline, and throws away whatever came after it."""
    with socket.create_connection((host, port)) as s:

        def line() -> str:
            data = b""
            while b"\n" not in data:
                more = s.recv(1024)
                if not more:
                    raise ConnectionError("closed")
                data += more
            return data.partition(b"\n")[0].decode().rstrip("\r")

        line()
        for _ in range(rounds):
            play_round(s, line)
        s.sendall(b"QUIT\r\n")
        while not line().startswith("BYE"):
            pass


def no_quit(host, port, rounds):
    """Bug: plays every round, then just closes: no QUIT."""
    with socket.create_connection((host, port)) as s:
        line = Lines(s)
        line()
        for _ in range(rounds):
            play_round(s, line)


def stands_after_the_round(host, port, rounds):
    """Bug: sends STAND after a hand of 21 or more, when the round is over."""
    with socket.create_connection((host, port)) as s:
        line = Lines(s)
        line()
        for _ in range(rounds):
            play_round(s, line, after_end=True)
        s.sendall(b"QUIT\r\n")
        while not line().startswith("BYE"):
            pass


def one_round_too_many(host, port, rounds):
    """Bug: range(rounds + 1): one DEAL more than asked."""
    correct(host, port, rounds + 1)


def no_newline(host, port, rounds):
    """Bug: sends its commands without a newline."""
    with socket.create_connection((host, port)) as s:
        s.recv(1024)
        s.sendall(b"DEAL")
        s.recv(1024)


def unknown_command(host, port, rounds):
    """Bug: asks for a card with DRAW, which version 1 does not know."""
    with socket.create_connection((host, port)) as s:
        line = Lines(s)
        line()
        s.sendall(b"DRAW\r\n")
        line()  # ERROR UNKNOWN-COMMAND
        for _ in range(rounds):
            play_round(s, line)
        s.sendall(b"QUIT\r\n")
        while not line().startswith("BYE"):
            pass


def never_returns(host, port, rounds):
    """Bug: after BYE it closes, then waits for a flag nothing ever sets."""
    done = False
    with socket.create_connection((host, port)) as s:
        line = Lines(s)
        line()
        for _ in range(rounds):
            play_round(s, line)
        s.sendall(b"QUIT\r\n")
        while not line().startswith("BYE"):
            pass
    while not done:
        time.sleep(0.01)


def hangs(host, port, rounds):
    """Bug: waits for more than WELCOME before its first DEAL, and loops on
    recv when it returns b"" (the server closed): it never ends."""
    s = socket.create_connection((host, port))
    data = b""
    while b"TURN" not in data:
        data += s.recv(1024)


def wrong_port(host, port, rounds):
    """Bug: connects to a port of its own choosing, not the one it is given."""
    try:
        socket.create_connection((host, 9), timeout=1).close()
    except OSError:
        return


BUGS = {
    one_recv_per_line: {
        "plays-every-round",
        "quit",
        "returns",
        "lines-in-pieces",
        "lines-together",
    },
    splits_each_recv: {"lines-in-pieces"},
    drops_the_rest: {"lines-together"},
    no_quit: {"quit"},
    stands_after_the_round: {"waits-for-turn"},
    one_round_too_many: {"plays-every-round"},
    no_newline: {"connects-and-greets", "commands", "plays-every-round", "quit"},
    unknown_command: {"commands"},
    never_returns: {"returns"},
    hangs: {"connects-and-greets", "plays-every-round", "quit", "returns"},
    wrong_port: {"connects-and-greets", "plays-every-round", "quit"},
}
# Line by line, whether a client reading one line per recv gets one line or
# two depends on when its recv runs (on a busy machine, two may come
# together): one_recv_per_line may send STAND after a round is over, and
# drops_the_rest may lose a line and wait for it.
LINE_BY_LINE = {"waits-for-turn", "plays-every-round", "quit", "returns"}
MAY = {one_recv_per_line: {"waits-for-turn"}, drops_the_rest: LINE_BY_LINE}
