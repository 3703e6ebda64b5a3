"""``python -m labkit serve``: a service on a transport until Ctrl+C or SIGTERM."""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading

from ..addresses import format_address, wide_bind_warning
from ..limits import Limits
from ..servers import REGISTRY, make_server
from ..transports import PortInUseError


def serve(args: argparse.Namespace) -> int:
    if args.seed is not None and "seed" not in REGISTRY[args.service].options:
        print(f"labkit: --seed does nothing for {args.service}", file=sys.stderr)
        args.seed = None
    try:
        server = make_server(
            args.service,
            args.transport,
            host=args.host,
            port=args.port,
            limits=Limits(
                max_connections=args.max_connections,
                max_per_peer=args.max_per_peer,
                max_line=args.max_line,
                idle_timeout=args.idle_timeout,
            ),
            seed=args.seed,
            # The tables' own; None (left out) is not passed on.
            tables=args.tables,
            decks=args.decks,
            h17=args.h17 or None,
            bet_seconds=args.bet_seconds,
            turn_seconds=args.turn_seconds,
        )
    except ValueError as exc:
        print(f"python -m labkit: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        server.log_to = lambda line: print(line, file=sys.stderr, flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server.start()
    except PortInUseError:
        print(
            f"python -m labkit: error: port {args.port} on {args.host} is already in "
            "use by another program. Use another --port (--port 0 picks a free one), "
            f"or stop the program that holds it (`ss -ltnp 'sport = :{args.port}'`)",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRNOTAVAIL:
            reason = (
                f"no network interface of this machine has the address {args.host} "
                "(127.0.0.1 is this machine alone, 0.0.0.0 every interface; "
                "`ip -brief address` lists them)"
            )
        print(f"python -m labkit: error: {reason}", file=sys.stderr)
        return 1
    print(f"listening on {format_address(*server.address)}", flush=True)
    if warning := wide_bind_warning(args.host):
        print(warning, file=sys.stderr, flush=True)
    while not stop.wait(1.0):  # the timeout lets Ctrl+C through on every OS
        pass
    server.stop()
    return 0
