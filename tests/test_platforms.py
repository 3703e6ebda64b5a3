"""The fallbacks for systems other than Linux run, proven on Linux.

CI runs Linux, so each test takes a Linux-only fact away (``/proc``,
``socket.AF_UNIX``, ``sys.platform``) and runs the code path that depends on
it: the path a learner on macOS or Windows takes.
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from labkit import platform_facts
from labkit.bench import processes
from labkit.transports import timeouts

PSUTIL = str(Path(psutil.__file__).parent)

# A process that uses CPU time, runs a second thread and has a child, then
# says so and waits for its standard input to close.
BUSY = """
import subprocess, sys, threading, time
child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                         stdin=subprocess.PIPE)
threading.Thread(target=sys.stdin.read, daemon=True).start()
end = time.process_time() + 0.2
while time.process_time() < end:
    pass
print("ready", flush=True)
threading.Event().wait()
"""


def refuse_proc_outside_psutil(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every open or listing of /proc fail unless psutil itself asks.

    psutil reads /proc on Linux, as it reads sysctl on macOS and the Win32
    API on Windows: labkit's code must ask psutil and never /proc. Returns
    the paths refused, to show the refusal was in place.
    """
    refused: list[str] = []

    def guard(real):
        def guarded(path, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if str(path).startswith("/proc") and not caller.startswith(PSUTIL):
                refused.append(str(path))
                raise FileNotFoundError(2, "no /proc on this system", str(path))
            return real(path, *args, **kwargs)

        return guarded

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(os, "listdir", guard(os.listdir))
    monkeypatch.setattr(os, "scandir", guard(os.scandir))
    return refused


@pytest.fixture
def busy_process():
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "ready\n"
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)
        for child in psutil.Process().children(recursive=True):
            child.kill()
            child.wait(timeout=10)


@pytest.mark.timeout(30)
def test_the_guard_refuses_proc(monkeypatch) -> None:
    refused = refuse_proc_outside_psutil(monkeypatch)
    with pytest.raises(FileNotFoundError):
        open("/proc/self/status")
    assert refused == ["/proc/self/status"]


@pytest.mark.timeout(30)
def test_a_process_is_measured_without_reading_proc(monkeypatch, busy_process):
    pid = busy_process.pid
    refused = refuse_proc_outside_psutil(monkeypatch)

    assert processes.cpu_seconds(pid) >= 0.15
    assert processes.cpu_seconds(pid, tree=True) >= processes.cpu_seconds(pid)
    assert 1024 < processes.rss_kib(pid) < 1024 * 1024  # between 1 MiB and 1 GiB
    assert processes.rss_kib(pid, tree=True) > 1024
    assert processes.threads(pid) >= 2
    assert [each.pid for each in processes.descendants(pid)][0] == pid
    assert len(processes.descendants(pid)) == 2  # the process and its child
    assert refused == []  # nothing of labkit's even tried


@pytest.mark.timeout(30)
def test_a_process_that_ended_counts_as_nothing(busy_process) -> None:
    pid = busy_process.pid
    busy_process.kill()
    busy_process.wait(timeout=10)
    assert processes.cpu_seconds(pid) == 0.0
    assert processes.rss_kib(pid) == processes.rss_kib(pid, tree=True) == 0
    assert processes.threads(pid) == 0 and processes.descendants(pid) == []


@pytest.mark.timeout(30)
def test_the_machine_s_other_work_is_counted_without_reading_proc(
    monkeypatch,
) -> None:
    from labkit.bench.runner import others_running

    refused = refuse_proc_outside_psutil(monkeypatch)
    assert others_running() >= 0
    assert refused == []


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_cells(notebook: str, *cell_ids: str) -> dict:
    """Run the code of a notebook's cells, by id and in order, as one kernel would.

    Returns the namespace the cells shared.
    """
    cells = {
        cell.get("id"): cell
        for cell in json.loads((NOTEBOOKS / notebook).read_text())["cells"]
    }
    namespace: dict = {"__name__": "__main__"}
    for cell_id in cell_ids:
        source = "".join(cells[cell_id]["source"])
        exec(compile(source, f"<{notebook} cell {cell_id}>", "exec"), namespace)
    return namespace


@pytest.mark.timeout(30)
def test_without_af_unix_notebook_01_says_so_and_skips_the_demo(
    monkeypatch, capsys
) -> None:
    monkeypatch.delattr(socket, "AF_UNIX")
    run_cells("01-sockets.ipynb", "3cbe2a22", "f57bac03")
    out = capsys.readouterr().out
    assert out == platform_facts.unix_sockets_missing() + "\n"
    assert "no socket.AF_UNIX" in out and "skipped" in out


@pytest.mark.timeout(30)
def test_with_af_unix_notebook_01_runs_the_demo(capsys) -> None:
    run_cells("01-sockets.ipynb", "3cbe2a22", "f57bac03")
    assert "received: b'over a Unix socket'" in capsys.readouterr().out


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fact", sorted(platform_facts.FACTS))
def test_every_fact_holds_on_linux_and_has_a_sentence_elsewhere(
    monkeypatch, fact
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert platform_facts.differs(fact) is None
    for platform in ("darwin", "win32", "sunos5"):
        monkeypatch.setattr(sys, "platform", platform)
        note = platform_facts.differs(fact)
        if note is not None:
            assert note.endswith(".") and len(note) > 40, note
    monkeypatch.setattr(sys, "platform", "win32")
    assert platform_facts.system() == "windows"
    assert platform_facts.differs(fact) is not None  # Windows differs in each
    monkeypatch.setattr(sys, "platform", "sunos5")
    assert "not been checked" in platform_facts.differs(fact)
    with pytest.raises(KeyError):
        platform_facts.differs("no such fact")


def as_if_on(platform: str, monkeypatch, tmp_path) -> None:
    """Take Linux's facts away: ``sys.platform``, and ``ss`` from the PATH."""
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setenv("PATH", str(tmp_path))


# Notebook 03's kernel experiments: (cell id, the fact it checks on Linux).
SERVERS_CELLS = [("8a40637c", "backlog"), ("b6ca68f9", "time_wait")]
SERVERS_CELLS += [("7acfbc60", "reuse_address")]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_notebook_03_says_what_differs_instead_of_asserting_linux(
    platform, monkeypatch, tmp_path, capsys
) -> None:
    as_if_on(platform, monkeypatch, tmp_path)
    ids = ["ba55f0de"] + [cell for cell, _ in SERVERS_CELLS]
    run_cells("03-servers.ipynb", *ids)
    out = capsys.readouterr().out
    assert "client 1: connected" in out  # the experiments ran
    assert "a restart on its port:" in out
    notes = [platform_facts.differs(fact) for _, fact in SERVERS_CELLS]
    assert any(notes), "no fact differs: the test would show nothing"
    for note in filter(None, notes):
        assert note in out, note
    assert "TIME_WAIT:" not in out  # no ss here: not asked


@pytest.mark.timeout(60)
def test_notebook_03_reads_no_proc_sys_where_there_is_none(monkeypatch, capsys) -> None:
    refused = refuse_proc_outside_psutil(monkeypatch)
    run_cells("03-servers.ipynb", "ba55f0de", "ae78fca2", "393ba044")
    out = capsys.readouterr().out
    assert "no /proc/sys/net here (not Linux): ports below 1024" in out
    assert "no ss or no /proc here (not Linux)" in out
    assert "/proc/sys/net/core/somaxconn" in refused  # the cells did try


@pytest.mark.timeout(60)
@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_notebook_09_says_what_differs_where_there_is_no_proc(
    platform, monkeypatch, tmp_path, capsys
) -> None:
    as_if_on(platform, monkeypatch, tmp_path)
    run_cells("09-selectors-and-asyncio.ipynb", "c63dd32c", "2c9d7e60")
    out = capsys.readouterr().out
    assert "threads added for 100 idle clients: 100" in out
    assert platform_facts.differs("idle_threads") in out
    assert "asleep" not in out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_notebook_01_says_what_differs_for_udp_instead_of_asserting_linux(
    platform, monkeypatch, tmp_path, capsys
) -> None:
    as_if_on(platform, monkeypatch, tmp_path)
    run_cells("01-sockets.ipynb", "3cbe2a22", "aa42c83e", "903e63dd")
    out = capsys.readouterr().out
    assert "every one of the 100 sendto calls returned" in out  # they ran
    assert "65,507 bytes:" in out
    for fact in ("udp_drops", "udp_max_datagram"):
        assert platform_facts.differs(fact) in out, fact


def fresh_timeouts_module(platform: str, monkeypatch):
    """labkit/transports/timeouts.py imported anew, as on ``platform``.

    The module decides at import whether the kernel keeps receive timeouts;
    a copy of its own leaves the labkit that other tests use as it is.
    """
    monkeypatch.setattr(sys, "platform", platform)
    path = Path(timeouts.__file__)
    spec = importlib.util.spec_from_file_location(f"timeouts_on_{platform}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(30)
@pytest.mark.parametrize("platform", ["darwin", "win32", "linux"])
def test_receive_timeouts_use_select_where_the_kernel_does_not_keep_them(
    platform, monkeypatch
) -> None:
    module = fresh_timeouts_module(platform, monkeypatch)
    assert module.KERNEL_TIMEOUTS is (platform == "linux")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)
        with socket.create_connection(listener.getsockname(), timeout=5) as client:
            conn, _ = listener.accept()
            with conn:
                receiver = module.receiver(conn, time.monotonic, idle=0.2)
                kernel = module.KernelReceiver
                assert isinstance(receiver, kernel) is (platform == "linux")
                began = time.monotonic()
                assert receiver.recv(began + 0.1) is None  # the deadline passed
                assert 0.09 <= time.monotonic() - began < 2
                client.sendall(b"line\n")
                assert receiver.recv(time.monotonic() + 5) == b"line\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_notebook_10_skips_the_live_benchmark_and_reads_the_stored_one(
    platform, monkeypatch, tmp_path, capsys
) -> None:
    as_if_on(platform, monkeypatch, tmp_path)
    refused = refuse_proc_outside_psutil(monkeypatch)
    cells = ["f461d4e1", "1ff6c106", "5a7e3c19", "24b7b0bf", "7946ab37"]
    namespace = run_cells("10-measure.ipynb", *cells)
    out = capsys.readouterr().out
    assert namespace["live"] is None
    assert out.startswith(platform_facts.differs("live_bench") + "\n"), out
    assert "served all requests" not in out
    assert "measured on 2 CPUs" in out  # the stored run, read on any system
    assert refused == []


@pytest.mark.timeout(30)
@pytest.mark.parametrize("posix", [True, False])
def test_listeners_reuse_addresses_on_posix_only(posix, monkeypatch) -> None:
    # Windows' SO_REUSEADDR lets a second program bind a port in use.
    from labkit.transports import base

    monkeypatch.setattr(base, "REUSE_ADDRESS", posix)
    with base.bind_listener("127.0.0.1", 0, 8) as listener:
        reuse = listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    assert bool(reuse) is posix
