"""Seat tokens kept in a small file, so a restarted kernel can take its seat back.

A ``tables`` server gives each seat a token (``SEATED <id> <seat> <chips>
<token>``) and keeps the seat, with its chips, for 60 s after its
connection ends. A widget keeps the token in memory, which is enough for
Reconnect; a kernel that restarts loses it. On a class's server (outside
the kernel) the learner would then sit down afresh with a fresh stack. So
the token is also written to a file in the learner's home, one entry per
(server address, table, name), and the next join in any kernel tries it.

The file is ``~/.labkit/seats.json`` in a JupyterHub user's server
(``JUPYTERHUB_USER`` is set: the home is one learner's), or the file
``LABKIT_SEATS`` names. Anywhere else nothing is kept: a home that several
players share (the table app serves every visitor from one) must not hand
one player's seat to another who types the same name. A token is worth no
more than one seat for a minute, yet the file is the learner's alone (mode
0600). It keeps the newest ``KEEP`` entries: a stale one costs one
``ERROR BAD-TOKEN``, and then a seat as usual.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

KEEP = 50

__all__ = ["forget", "recall", "remember", "seats_file"]


def seats_file() -> Path | None:
    """Where the tokens are kept, or None where they are not (see above)."""
    named = os.environ.get("LABKIT_SEATS")
    if named:
        return Path(named)
    if os.environ.get("JUPYTERHUB_USER"):
        return Path.home() / ".labkit" / "seats.json"
    return None


def _key(address: tuple[str, int], table: int, name: str | None) -> str:
    host, port = address[0], address[1]
    return f"{host}:{port} table {table} {name or ''}".rstrip()


def _load(path: Path | None) -> dict[str, dict]:
    if path is None:
        return {}
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: no token to offer
    return entries if isinstance(entries, dict) else {}


def _save(path: Path, entries: dict[str, dict]) -> None:
    # Written whole and renamed: two kernels of one learner never leave
    # half a file for the other to read.
    path.parent.mkdir(parents=True, exist_ok=True)
    newest = sorted(entries.items(), key=lambda kv: kv[1].get("at", 0))[-KEEP:]
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".seats-")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(dict(newest), out, indent=1)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def remember(
    address: tuple[str, int], table: int, name: str | None, token: str
) -> None:
    """Keep ``token`` for the seat at ``table`` of the server at ``address``."""
    path = seats_file()
    if not token or path is None:
        return
    entries = _load(path)
    entries[_key(address, table, name)] = {"token": token, "at": time.time()}
    try:
        _save(path, entries)
    except OSError:
        pass  # a read-only home: the seat still works, only a restart loses it


def recall(address: tuple[str, int], table: int, name: str | None) -> str | None:
    """The token last kept for that seat, or None."""
    entry = _load(seats_file()).get(_key(address, table, name))
    token = entry.get("token") if isinstance(entry, dict) else None
    return token if isinstance(token, str) and token else None


def forget(address: tuple[str, int], table: int, name: str | None) -> None:
    """Drop the token for that seat (the server no longer knows it)."""
    path = seats_file()
    entries = _load(path)
    if path is not None and entries.pop(_key(address, table, name), None) is not None:
        try:
            _save(path, entries)
        except OSError:
            pass
