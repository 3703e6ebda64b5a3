"""Shared fixtures: servers that always stop, leak checks (helpers: support.py)."""

from __future__ import annotations

import functools
import os

import pytest
import reliability
from support import labkit_threads, open_fds, wait_until

import labkit


def pytest_sessionfinish(session, exitstatus) -> None:
    # Figures only, and only when asked: the report is rendered from them by
    # tests/reliability.py (make reliability), never by the suite.
    path = os.environ.get("LABKIT_RELIABILITY_FIGURES")
    if path and reliability.rows:
        reliability.save(path, passed=exitstatus == 0)


@pytest.fixture
def start():
    """start(service, transport, **options): a running server, stopped after."""
    servers = []

    def start_server(service="echo", transport="threaded", **options):
        server = labkit.make_server(service, transport, **options).start()
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        assert server.stop(), f"{server!r} did not stop within 2 s"


@functools.cache
def warm_up_twisted() -> None:
    """Twisted's reactor opens descriptors of its own, once, for the process's
    life: on its first use and on its first port. Count them out."""
    labkit.make_server("echo", "twisted").start().stop()


@pytest.fixture
def no_leaks():
    """Fail the test if it leaves labkit threads or file descriptors behind."""
    warm_up_twisted()
    threads, fds = labkit_threads(), open_fds()
    yield
    assert wait_until(lambda: labkit_threads() == threads), (
        f"labkit threads left: {labkit_threads()}"
    )
    assert wait_until(lambda: open_fds() <= fds), (
        f"file descriptors: {fds} before, {open_fds()} after"
    )
