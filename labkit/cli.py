"""The command line: ``python -m labkit serve ...`` and ``python -m labkit telnet``.

    python -m labkit serve SERVICE [--transport T] [--host H] [--port P]
                                   [--seed N] [--max-connections N]
                                   [--idle-timeout SECONDS]
    python -m labkit telnet HOST PORT

``serve`` prints exactly ``listening on HOST:PORT`` as its first line once the
server accepts connections, and stops cleanly (exit status 0) on Ctrl+C or
SIGTERM. Bad arguments get a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading

from .bench import command as bench
from .play import play
from .servers import SERVICES, make_server
from .transports import TRANSPORTS
from .transports.base import (
    DEFAULT_HOST,
    DEFAULT_MAX_CONNECTIONS,
    format_address,
    wide_bind_warning,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m labkit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    serve = commands.add_parser("serve", help="run a service until Ctrl+C")
    serve.add_argument("service", choices=SERVICES)
    serve.add_argument("--transport", choices=list(TRANSPORTS), default="threaded")
    serve.add_argument("--host", default=DEFAULT_HOST, help="default: %(default)s")
    serve.add_argument("--port", type=_port, default=0, help="default: any free port")
    serve.add_argument("--seed", type=int, help="deal the same cards every time")
    serve.add_argument(
        "--max-connections", type=_positive(int), default=DEFAULT_MAX_CONNECTIONS
    )
    serve.add_argument(
        "--idle-timeout", type=_positive(float), default=300.0, metavar="SECONDS"
    )

    telnet = commands.add_parser("telnet", help="a line client, like telnet")
    telnet.add_argument("host")
    telnet.add_argument("port", type=_port)

    player = commands.add_parser("play", help="play Blackjack in the terminal")
    player.add_argument("host")
    player.add_argument("port", type=_port)

    bench.add_arguments(commands.add_parser("bench", help="measure the transports"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "play":
        return play(args.host, args.port)
    if args.command == "bench":
        return bench.main(args)
    return telnet(args.host, args.port)


def serve(args: argparse.Namespace) -> int:
    try:
        server = make_server(
            args.service,
            args.transport,
            host=args.host,
            port=args.port,
            seed=args.seed,
            max_connections=args.max_connections,
            idle_timeout=args.idle_timeout,
        )
    except ValueError as exc:
        print(f"python -m labkit: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        print(f"python -m labkit: error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"listening on {format_address(*server.address)}", flush=True)
    if warning := wide_bind_warning(args.host):
        print(warning, file=sys.stderr, flush=True)
    while not stop.wait(1.0):  # the timeout lets Ctrl+C through on every OS
        pass
    server.stop()
    return 0


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
            f"could not connect to {format_address(host, port)}: {exc}", file=sys.stderr
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
