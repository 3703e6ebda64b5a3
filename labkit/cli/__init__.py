"""The command line: ``python -m labkit serve|telnet|play|bench ...``.

    python -m labkit serve SERVICE [--transport T] [--host H] [--port P]
                                   [--seed N] [--max-connections N]
                                   [--max-line BYTES] [--idle-timeout SECONDS|off]
    python -m labkit telnet HOST PORT
    python -m labkit play HOST PORT
    python -m labkit bench [--quick] ...

One module a command; this one parses the arguments.

``serve`` prints exactly ``listening on HOST:PORT`` as its first line once the
server accepts connections, and stops cleanly (exit status 0) on Ctrl+C or
SIGTERM. Bad arguments get a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse

from ..addresses import DEFAULT_HOST
from ..bench import command as bench
from ..limits import DEFAULT_LIMITS
from ..servers import SERVICES
from ..transports import TRANSPORTS


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


def _idle(text: str) -> float | None:
    if text == "off":
        return None
    return _positive(float)(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m labkit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    serving = commands.add_parser("serve", help="run a service until Ctrl+C")
    serving.add_argument("service", choices=SERVICES)
    serving.add_argument(
        "--transport",
        choices=list(TRANSPORTS),
        help="default: threaded (http: socketserver)",
    )
    serving.add_argument("--host", default=DEFAULT_HOST, help="default: %(default)s")
    serving.add_argument("--port", type=_port, default=0, help="default: any free port")
    serving.add_argument("--seed", type=int, help="deal the same cards every time")
    serving.add_argument(
        "--quiet",
        action="store_true",
        help="log nothing; by default each connection, close (and why) and fault "
        "is a line on standard error",
    )
    serving.add_argument(
        "--max-connections",
        type=_positive(int),
        default=DEFAULT_LIMITS.max_connections,
        metavar="N",
        help="open at once; one more is turned away (default: %(default)s)",
    )
    serving.add_argument(
        "--max-line",
        type=_positive(int),
        default=DEFAULT_LIMITS.max_line,
        metavar="BYTES",
        help="the longest line a client may send (default: %(default)s)",
    )
    serving.add_argument(
        "--idle-timeout",
        type=_idle,
        default=DEFAULT_LIMITS.idle_timeout,
        metavar="SECONDS",
        help="close a connection silent this long; off: never (default: %(default)g)",
    )

    line_client = commands.add_parser("telnet", help="a line client, like telnet")
    line_client.add_argument("host")
    line_client.add_argument("port", type=_port)

    game = commands.add_parser("play", help="play Blackjack in the terminal")
    game.add_argument("host")
    game.add_argument("port", type=_port)

    bench.add_arguments(commands.add_parser("bench", help="measure the transports"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Each command's module is imported only when that command runs.
    if args.command == "serve":
        from .serve import serve

        return serve(args)
    if args.command == "play":
        from .play import play

        return play(args.host, args.port)
    if args.command == "bench":
        return bench.main(args)
    from .telnet import telnet

    return telnet(args.host, args.port)
