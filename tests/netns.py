"""Hosts for tests: network namespaces on one switch (as root; required in CI).

Each host is a network namespace with one interface and one address; its
cable is a veth pair whose other end is a port of a bridge (the switch) in
a namespace of its own. Nothing touches the machine's own network, and
everything goes when the namespaces are deleted. Addresses come from
192.0.2.0/24, TEST-NET-1, reserved for documentation: no real network uses
it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from support import REQUIRED, require_program


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _delete(namespaces: list[str]) -> None:
    for ns in namespaces:  # deleting a namespace deletes its ends of the veths
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


@contextlib.contextmanager
def hosts(addresses: dict[str, str]) -> Iterator[dict[str, tuple[str, ...]]]:
    """One namespace per ``{name: address}``, all on one switch.

    Yields ``{name: command prefix}``: the prefix runs a program on that
    host (``ip netns exec ...``). Skips where namespaces cannot be made,
    and fails instead in CI (``LABKIT_REQUIRE_ALL=1``, run as root).
    """
    require_program("ip")
    if os.geteuid() != 0:
        message = "making network namespaces needs root"
        if REQUIRED:
            pytest.fail(message + "; CI runs as root", pytrace=False)
        pytest.skip(message)
    tag = uuid.uuid4().hex[:6]
    switch = f"labkit-sw-{tag}"
    names = {name: f"labkit-{name.lower()}-{tag}" for name in addresses}
    made = [switch, *names.values()]
    try:
        for ns in made:
            ip("netns", "add", ns)
        ip("-n", switch, "link", "add", "switch", "type", "bridge")
        ip("-n", switch, "link", "set", "switch", "up")
        for i, (name, address) in enumerate(addresses.items()):
            ns, link, port = names[name], f"lk{tag}h{i}", f"lk{tag}p{i}"
            ip("link", "add", link, "type", "veth", "peer", "name", port)
            ip("link", "set", port, "netns", switch)
            ip("-n", switch, "link", "set", port, "master", "switch", "up")
            ip("link", "set", link, "netns", ns)
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", link)
            ip("-n", ns, "link", "set", link, "up")
            ip("-n", ns, "link", "set", "lo", "up")
    except subprocess.CalledProcessError as exc:
        _delete(made)
        for i in range(len(addresses)):  # a cable not yet moved to its hosts
            subprocess.run(
                ["ip", "link", "del", f"lk{tag}h{i}"], capture_output=True, timeout=10
            )
        message = f"cannot make network namespaces here: {exc.stderr.decode().strip()}"
        if REQUIRED:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield {name: ("ip", "netns", "exec", ns) for name, ns in names.items()}
    finally:
        _delete(made)
