"""``python -m labkit app --server HOST:PORT``: the table app for a class.

Starts Voilà (a separate process, in a process group of its own) on the two
pages of :mod:`labkit.apps`, waits until it answers, prints the URLs to give
out, and runs until Ctrl+C or SIGTERM, which stop Voilà and every kernel it
started. The tables server is not started here: the app joins one given by
address, which may run on another machine (``python -m labkit serve
tables``).

Choices, and why:

- Voilà serves the pages with their code stripped (``--strip_sources``, its
  default, said anyway) and without tracebacks: the pages put errors in
  words themselves.
- No token (and no XSRF check, see :func:`voila_command`): a student opens a
  URL and plays. Voilà's kernels accept only
  widget (comm) messages from a page, never code to execute, so a visitor
  can do what the page's buttons do and no more. What an open page does
  cost is a kernel (see the README's figures): bind to a classroom network,
  not the internet. Voilà listens on 127.0.0.1 unless ``--host`` says
  otherwise, like every labkit server.
- ``--preheat N`` keeps N kernels started ahead, and the play page run in
  them, for the next N students (Voilà's ``preheat_kernel`` and
  ``pool_size``); each waits idle at about 100 MB, so it is off by default.
  A kernel taken is replaced ``REFILL_DELAY`` seconds later, not Voilà's
  one: see :func:`voila_command`.
- A closed tab ends its kernel. A browser that went away without closing
  its page (a crash, a laptop that left the network) sends no such request:
  its kernel ends once the page has been gone for ``--cull-after`` seconds,
  even while its table sends it lines (labkit/apps/kernels.py). A page
  still open is never culled.
"""

from __future__ import annotations

import errno
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from ..addresses import format_address, wide_bind_warning
from ..apps import APP_DIR, CULL_AFTER, PLAY, SERVER_ENV, WATCH

START_TIMEOUT = 60.0  # seconds for Voilà to answer its first request
STOP_TIMEOUT = 10.0  # seconds for Voilà to shut its kernels down
REFILL_DELAY = 30.0  # seconds before Voilà replaces a preheated kernel taken


def parse_server(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) -> (host, port); ValueError if not."""
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--server wants HOST:PORT, e.g. 127.0.0.1:7000, not {text!r}")
    return host, int(port)


def check_server(address: tuple[str, int]) -> str | None:
    """None when a tables server answers at ``address``; otherwise why not."""
    from ..tables.client import TableClient

    try:
        with TableClient(address, timeout=3.0) as client:
            client.tables()
    except Exception as error:  # any failure is reported, none is fatal
        return str(error) or type(error).__name__
    return None


def page_urls(host: str, port: int) -> tuple[str, str]:
    """The play page's URL and the watch page's (table 1), for people to type."""
    shown = host
    if wide_bind_warning(host):  # every interface: name one others can reach
        shown = _outward_address() or "THIS-MACHINE"
    base = f"http://{format_address(shown, port)}/voila/render"
    return f"{base}/{PLAY}", f"{base}/{WATCH}?table=1"


def _outward_address() -> str | None:
    """The address this machine's default route leaves from, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP connect: no packet is sent
            return probe.getsockname()[0]
        except OSError:
            return None


def voila_command(
    host: str, port: int, preheat: int, cull_after: float | None
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "voila",
        str(APP_DIR),
        "--no-browser",
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",  # the URLs printed must be the ones served
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--Voila.log_level=ERROR",  # not lines for every page view
        # A closing tab asks Voila to end its kernel (a POST without
        # Voila's XSRF field, voila-dashboards/voila#1458): without this,
        # every page ever opened keeps its kernel (~100 MB) until Ctrl+C.
        # That POST names a kernel by its random id, which only its own
        # page knows; with no token there is no login for XSRF to protect.
        "--Voila.tornado_settings",
        "disable_check_xsrf=True",
        # JupyterLab extensions of the lab that a page cannot use (they fail
        # to load in Voila's page, after downloading their code each view).
        "--VoilaConfiguration.extension_denylist=@jupyter/nbgrader",
        "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
        # How the app culls and stops its kernels (labkit/apps/kernels.py).
        "--VoilaConfiguration.multi_kernel_manager_class="
        "labkit.apps.kernels.AppKernelManager",
    ]
    if os.name == "posix":
        # Kernels talk to Voila over Unix sockets, not TCP ports on loopback
        # that any local user could try (and ipykernel warns about).
        command.append("--KernelManager.transport=ipc")
    if cull_after is not None:
        # Looked for every tenth of that: a kernel ends within 110% of it.
        seconds = math.ceil(cull_after)
        command += [
            f"--MappingKernelManager.cull_idle_timeout={seconds}",
            f"--MappingKernelManager.cull_interval={max(1, seconds // 10)}",
        ]
    if preheat:
        # A pool for the play page only: the watch page is the projector's.
        # Voila refills the pool a second after a kernel is taken: a class
        # arriving together would start a second class's kernels at once,
        # and starve its own pages of CPU for a minute. Refill after the
        # arrivals' pages are up instead.
        command += [
            "--preheat_kernel=True",
            f"--pool_size={preheat}",
            f"--VoilaKernelManager.preheat_denylist={WATCH}",
            f"--VoilaKernelManager.fill_delay={REFILL_DELAY}",
        ]
    return command


def run_app(
    server: str,
    host: str,
    port: int,
    preheat: int = 0,
    cull_after: float | None = CULL_AFTER,
) -> int:
    if preheat < 0:
        print(
            "python -m labkit app: error: --preheat must be 0 or more", file=sys.stderr
        )
        return 2
    try:
        address = parse_server(server)
    except ValueError as error:
        print(f"python -m labkit app: error: {error}", file=sys.stderr)
        return 2
    try:
        import voila  # noqa: F401
    except ImportError:
        print(
            "python -m labkit app: error: Voila is not installed; install it with "
            "pip install 'labkit[app]' (or make install)",
            file=sys.stderr,
        )
        return 2
    if problem := _port_in_use(host, port):
        print(f"python -m labkit app: error: {problem}", file=sys.stderr)
        return 1
    where = format_address(*address)
    if why := check_server(address):
        print(
            f"labkit app: warning: the tables server at {where} does not answer "
            f"({why}). Start it (python -m labkit serve tables --host 0.0.0.0 "
            f"--port {address[1]}); until then the pages say so.",
            file=sys.stderr,
            flush=True,
        )
    if warning := wide_bind_warning(host):
        print(warning, file=sys.stderr, flush=True)

    env = dict(os.environ)
    env[SERVER_ENV] = format_address(*address)
    env.setdefault("JUPYTER_PREFER_ENV_PATH", "1")  # this Python's kernel
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    voila = subprocess.Popen(
        voila_command(host, port, preheat, cull_after),
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl+C reaches it through us, once
    )
    try:
        local = "127.0.0.1" if wide_bind_warning(host) else host
        if not _wait_until_answers(local, port, voila, stop):
            if stop.is_set():
                return 0  # Ctrl+C while starting
            if voila.poll() is None:
                why = f"Voila did not answer in {START_TIMEOUT:g} s"
            else:
                why = (
                    f"Voila exited (status {voila.returncode}); see its messages above"
                )
            print(f"python -m labkit app: error: {why}", file=sys.stderr)
            return 1
        play, watch = page_urls(host, port)
        print(f"table app for the tables server at {where}", flush=True)
        print(f"  students play:  {play}", flush=True)
        print(f"  projector:      {watch}  (table=N for table N)", flush=True)
        print("Each open page runs a kernel of its own. Ctrl+C stops the app.")
        sys.stdout.flush()
        while not stop.wait(0.5):  # the timeout lets Ctrl+C through on every OS
            if voila.poll() is not None:
                print(
                    f"python -m labkit app: error: Voila exited "
                    f"(status {voila.returncode})",
                    file=sys.stderr,
                )
                return 1
        return 0
    finally:
        _stop_group(voila)
        print("labkit app: stopped (Voila and its kernels)", file=sys.stderr)


def _port_in_use(host: str, port: int) -> str | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use by another program: "
                    "use another --port"
                )
            return f"cannot listen on {format_address(host, port)}: {error.strerror}"
    return None


def _wait_until_answers(host, port, process, stop) -> bool:
    """True once Voilà serves its page list; False if it exits or we stop."""
    url = f"http://{format_address(host, port)}/"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and not stop.is_set():
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        stop.wait(0.2)
    return False


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to Voilà (it shuts its kernels down), then SIGKILL what is left.

    The kernels run in process groups of their own (jupyter_client starts
    them so), so they are found as Voilà's children, before it ends.
    """
    import psutil

    try:
        kernels = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kernels = []
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)
    _, alive = psutil.wait_procs(kernels, timeout=STOP_TIMEOUT)
    for kernel in alive:
        kernel.kill()
    psutil.wait_procs(alive, timeout=STOP_TIMEOUT)
