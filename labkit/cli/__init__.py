"""The command line: ``python -m labkit serve|telnet|play|check|bench|app ...``.

    python -m labkit serve SERVICE [--transport T] [--host H] [--port P]
                                   [--seed N] [--max-connections N] [--max-per-peer N]
                                   [--max-line BYTES] [--idle-timeout SECONDS|off]
                                   [--tables N] [--decks N] [--h17]
                                   [--bet-seconds S] [--turn-seconds S]
    python -m labkit telnet HOST PORT
    python -m labkit play HOST PORT
    python -m labkit check SERVICE HOST PORT [--only CASE ...] [--junit FILE]
    python -m labkit bench [--quick] ...
    python -m labkit app --server HOST:PORT [--host H] [--port P] [--preheat N]
                         [--cull-after SECONDS|off]

One module a command; this one parses the arguments.

``serve`` prints exactly ``listening on HOST:PORT`` as its first line once the
server accepts connections, and stops cleanly (exit status 0) on Ctrl+C or
SIGTERM. Bad arguments get a one-line message and exit status 2. Ctrl+C
ends ``telnet`` and ``play`` with one line and exit status 130 (the shell's
128 + SIGINT), with no traceback. What a user typed is quoted in messages
cut to a screen's width, so a long typo cannot flood the terminal.
"""

from __future__ import annotations

import argparse
import re
import sys

from ..addresses import DEFAULT_HOST
from ..apps import CULL_AFTER
from ..bench import command as bench
from ..limits import DEFAULT_LIMITS
from ..servers import SERVICES
from ..transports import TRANSPORTS


def clip(typed: str, limit: int = 40) -> str:
    """``typed`` quoted for a message, cut after ``limit`` characters."""
    if len(typed) <= limit:
        return repr(typed)
    return f"{typed[:limit]!r}... ({len(typed):,} characters)"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = _LONG_TYPO.sub(lambda m: clip(m.group().strip("'")), message)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# What argparse quotes from the command line ('...') or lists bare, when long.
_LONG_TYPO = re.compile(r"'[^']{41,}'|[^\s']{41,}")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{clip(text)} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{clip(text)} must be above 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def _seconds_or_off(text: str) -> float | None:
    if text == "off":
        return None
    return _positive(float)(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{clip(text)} is not a port (0 to 65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m labkit",
        description="Serve the lab's services, talk to them, play, measure.",
    )
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
    tables = serving.add_argument_group("tables (Blackjack version 2)")
    tables.add_argument("--tables", type=_positive(int), metavar="N", help="default: 4")
    tables.add_argument(
        "--decks", type=_positive(int), metavar="N", help="in the shoe (default: 6)"
    )
    tables.add_argument("--h17", action="store_true", help="the dealer hits a soft 17")
    tables.add_argument(
        "--bet-seconds", type=_positive(float), metavar="S", help="default: 15"
    )
    tables.add_argument(
        "--turn-seconds", type=_positive(float), metavar="S", help="default: 30"
    )
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
        "--max-per-peer",
        type=_positive(int),
        default=16,
        metavar="N",
        help="open at once from one address; one more is turned away "
        "(default: %(default)s)",
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
        type=_seconds_or_off,
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

    checking = commands.add_parser(
        "check",
        help="check a server, anyone's, against the protocol",
        description="Exit status: 0 every case passed, 1 some failed, "
        "2 no connection or bad arguments.",
    )
    checking.add_argument("service", choices=("hello", "echo", "blackjack"))
    checking.add_argument("host")
    checking.add_argument("port", type=_port)
    checking.add_argument(
        "--only", nargs="+", action="extend", metavar="CASE", help="run these cases"
    )
    checking.add_argument("--junit", metavar="FILE", help="also write JUnit XML")

    bench.add_arguments(commands.add_parser("bench", help="measure the transports"))

    app = commands.add_parser(
        "app",
        help="the table app: web pages to play at a tables server (Voila)",
        description="Serve a play page and a watch page (for a projector) for "
        "the tables server at --server, until Ctrl+C. Each open page runs a "
        "kernel of its own.",
    )
    app.add_argument(
        "--server", required=True, metavar="HOST:PORT", help="the tables server"
    )
    app.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="where the pages listen (0.0.0.0 for a classroom; default: %(default)s)",
    )
    app.add_argument("--port", type=_port, default=8866, help="default: %(default)s")
    app.add_argument(
        "--preheat",
        type=int,
        default=0,
        metavar="N",
        help="keep N kernels started ahead for the play page; the README says "
        "what it measured (default: %(default)s)",
    )
    app.add_argument(
        "--cull-after",
        type=_seconds_or_off,
        default=CULL_AFTER,
        metavar="SECONDS",
        help="end the kernel of a page whose browser went away without closing "
        "it (a crash, a laptop that left the network) once the page has been "
        "gone this long; off: never (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:  # serve handles SIGINT itself, once it listens
        print("\nInterrupted (Ctrl+C).", file=sys.stderr, flush=True)
        return 130


def _run(args: argparse.Namespace) -> int:
    # Each command's module is imported only when that command runs.
    if args.command == "serve":
        from .serve import serve

        return serve(args)
    if args.command == "play":
        from .play import play

        return play(args.host, args.port)
    if args.command == "bench":
        return bench.main(args)
    if args.command == "app":
        from .app import run_app

        return run_app(args.server, args.host, args.port, args.preheat, args.cull_after)
    if args.command == "check":
        from .check import run_check

        return run_check(args.service, args.host, args.port, args.only, args.junit)
    from .telnet import telnet

    return telnet(args.host, args.port)
