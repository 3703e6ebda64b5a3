"""``labkit check``: does a server, anyone's, in any language, follow the protocol?

    report = labkit.check("echo", server)        # or ("127.0.0.1", 9000), "host:9000"
    report.ok, report.passed, report.total
    print(report)                                # the plain report; in Jupyter a widget

Each case drives the server over real sockets as a script of steps, each
with a timeout, and a failure shows what was sent, what was expected, what
came back and a hint in the lecture's terms. The cases are grouped by what
they teach (framing, concurrency, the end of a session, ...).

    Modules, one concern each:
    runner            the bounded steps, running cases, the time budgets
    cases_hello       hello's cases
    cases_echo        echo's cases
    cases_blackjack   Blackjack version 1's cases (through labkit's protocol checker)
    client_blackjack  blackjack-client: labkit plays the server, judging a client
    report            the results: plain text, JUnit XML
    widget            the results as a widget (imported only in Jupyter)
"""

from __future__ import annotations

from ..addresses import format_address
from . import cases_blackjack, cases_echo, cases_hello, client_blackjack
from .report import CaseResult, CheckReport
from .runner import CannotConnect, Case, run_cases

CASES: dict[str, list[Case]] = {
    "hello": cases_hello.CASES,
    "echo": cases_echo.CASES,
    "blackjack": cases_blackjack.CASES,
    "blackjack-client": client_blackjack.CASES,
}
CLIENTS = {"blackjack-client": client_blackjack.check_client}  # target: a function


def case_names(service: str) -> list[str]:
    return [case.name for case in _cases(service)]


def _cases(service: str) -> list[Case]:
    try:
        return CASES[service]
    except KeyError:
        raise ValueError(
            f"no checks for {service!r}: choose one of {', '.join(CASES)}"
        ) from None


def parse_target(target) -> tuple[str, int]:
    """(host, port) from a pair, "host:port" ("[::1]:port"), or a server handle."""
    if hasattr(target, "address"):
        target = target.address
    if isinstance(target, str):
        host, colon, port = target.rpartition(":")
        if not colon or not port.isdigit():
            raise ValueError(f"{target!r} is not HOST:PORT")
        return host.strip("[]") or "127.0.0.1", int(port)
    host, port = target[:2]
    return str(host), int(port)


def check(service: str, target, *, only: list[str] | None = None) -> CheckReport:
    """Check the ``service`` server at ``target``; returns the report.

    ``target``: (host, port), "host:port", or anything with an ``address``
    (labkit's server handles, a learner's server); for a client service
    (``blackjack-client``), the client function itself. ``only``: case names to
    run, in the service's order. Raises CannotConnect when nothing accepts
    connections there, ValueError for an unknown service or case.
    """
    cases = _cases(service)
    if only is not None:
        unknown = [name for name in only if name not in case_names(service)]
        if unknown:
            raise ValueError(
                f"{service} has no case {unknown[0]!r}; its cases: "
                + ", ".join(case_names(service))
            )
        cases = [case for case in cases if case.name in only]
    if service in CLIENTS:
        return CLIENTS[service](target, cases, service)
    address = parse_target(target)
    if getattr(target, "running", True) is False and hasattr(target, "message"):
        # A learner's server that ended says why, which "nothing listens" cannot.
        raise CannotConnect(
            f"nothing listens on {format_address(*address)}: {target.message}"
        )
    return run_cases(service, address, cases)


__all__ = [
    "CASES",
    "CannotConnect",
    "CaseResult",
    "CheckReport",
    "case_names",
    "check",
    "parse_target",
]
