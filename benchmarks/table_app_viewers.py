"""What a viewer of the table app costs: a kernel's memory and its start time.

    .venv/bin/python benchmarks/table_app_viewers.py [--viewers 1 5 10] [--preheat N]

Voilà starts a kernel for every page view. This starts a tables server and
``python -m labkit app`` (with ``--preheat N`` if given), then for each
count N opens N play pages at once in headless Chromium (Debian's
``chromium``), as a class arriving together, and records:

- seconds from asking for a page to the end of its HTML (Voila sends it
  once the kernel has started and run the notebook: the server's share);
- seconds from asking for a page to its name box shown (median, max);
- each kernel's memory once every page has joined table 1 (RSS, and USS:
  the memory that kernel alone holds, what another viewer really adds);
- Voilà's own RSS.

The kernels are the Voilà process's children (psutil). Chromium's memory is
not counted: in a class it is the students' browsers. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser_support import launch_chromium  # noqa: E402
from support import ServeProcess, free_port  # noqa: E402

MIB = 1024 * 1024
# Milliseconds from asking for the page to the last byte of its HTML.
NAVIGATION_JS = "() => performance.getEntriesByType('navigation')[0].responseEnd"


def start_app(server: str, port: int, preheat: int) -> subprocess.Popen:
    app = subprocess.Popen(
        [sys.executable, "-m", "labkit", "app", "--server", server]
        + ["--port", str(port), "--preheat", str(preheat)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    for line in app.stdout:  # the last line it prints once Voilà answers
        if "Ctrl+C stops the app." in line:
            return app
    raise RuntimeError("labkit app ended before it served")


def kernels(app: subprocess.Popen) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(app.pid).children(recursive=True):
        try:
            if "ipykernel_launcher" in " ".join(process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass  # a kernel that just ended (a zombie until Voila reaps it)
    return found


def voila_process(app: subprocess.Popen) -> psutil.Process:
    return psutil.Process(app.pid).children()[0]


def wait_for_kernels(app: subprocess.Popen, count: int, timeout: float = 300) -> None:
    """Until ``count`` kernels run and are quiet: a preheated one has run the
    page's notebook and waits for a viewer."""
    deadline = time.monotonic() + timeout
    while True:
        running = kernels(app)
        if len(running) >= count:
            try:
                busy = sum(k.cpu_percent(interval=None) for k in running)
                time.sleep(1.0)
                busy = sum(k.cpu_percent(interval=None) for k in running)
            except psutil.Error:
                busy = 100.0  # one ended meanwhile: look again
            if busy <= 3.0 * len(running):  # idle kernels poll a little
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(running)} kernels, not {count} quiet ones")
        time.sleep(0.5)


def measure(context, url: str, app, viewers: int, round_: int, first: int) -> dict:
    """``first``: how many seats earlier rounds took (seven a table, in order)."""
    pages = [context.new_page() for _ in range(viewers)]
    began = time.monotonic()
    opened_at = []
    for page in pages:
        opened_at.append(time.monotonic())
        page.goto(url, wait_until="commit", timeout=300_000)
    shown = []
    for page in pages:  # all load at once; each time counts from `began`
        page.locator(".labkit-app-name input").wait_for(timeout=300_000)
        shown.append(time.monotonic() - began)
    # Voila sends the page's HTML once the kernel has run the notebook: the
    # end of that response is the server's share, the rest the browser's.
    served = [
        page.evaluate(NAVIGATION_JS) / 1000 + (opened - began)
        for page, opened in zip(pages, opened_at, strict=True)
    ]
    for number, page in enumerate(pages):
        page.locator(".labkit-app-name input").fill(f"r{round_}v{number}")
        page.locator(".labkit-app-table select").select_option(
            index=(first + number) // 7
        )
        page.locator("button.labkit-app-join").click()
    for page in pages:
        page.locator('.labkit-tbl-seat[data-me="yes"]').wait_for(timeout=60_000)
    running = kernels(app)
    rss = [k.memory_info().rss / MIB for k in running]
    uss = [k.memory_full_info().uss / MIB for k in running]
    result = {
        "viewers": viewers,
        "kernels": len(running),
        "served_median_s": statistics.median(served),
        "start_median_s": statistics.median(shown),
        "start_max_s": max(shown),
        "kernel_rss_mib": statistics.median(rss),
        "kernel_uss_mib": statistics.median(uss),
        "voila_rss_mib": voila_process(app).memory_info().rss / MIB,
    }
    for page in pages:
        page.close(run_before_unload=True)  # as a tab closes: Voilà ends its kernel
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--preheat", type=int, default=0)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    # Seven seats a table: each viewer takes the next free seat. A closed
    # page's seat waits 60 s for its player, so seats are not reused.
    tables = str(sum(args.viewers) // 7 + 1)
    viewers = str(sum(args.viewers) + 10)  # all from 127.0.0.1
    with ServeProcess(
        "tables", "--quiet", "--tables", tables, "--max-per-peer", viewers
    ) as server:
        port = free_port()
        app = start_app(f"127.0.0.1:{server.port}", port, args.preheat)
        try:
            idle = args.preheat  # the pool of the play page
            wait_for_kernels(app, idle)
            url = f"http://127.0.0.1:{port}/voila/render/play.ipynb"
            with sync_playwright() as playwright:
                profile = Path(f"/tmp/labkit-bench-chromium-{port}")
                context = launch_chromium(playwright, "/usr/bin/chromium", profile)
                print(
                    f"preheat {args.preheat}: viewers, kernels, HTML served "
                    "(median s), page shown (median / max s), kernel RSS / USS "
                    "(MiB), Voila RSS (MiB)"
                )
                for round_, viewers in enumerate(args.viewers):
                    wait_for_kernels(app, idle)  # the pool refilled
                    first = sum(args.viewers[:round_])
                    r = measure(context, url, app, viewers, round_, first)
                    print(
                        f"{r['viewers']:3d} {r['kernels']:3d}  "
                        f"{r['served_median_s']:5.1f}  "
                        f"{r['start_median_s']:5.1f} / {r['start_max_s']:5.1f}  "
                        f"{r['kernel_rss_mib']:5.0f} / {r['kernel_uss_mib']:5.0f}  "
                        f"{r['voila_rss_mib']:5.0f}",
                        flush=True,
                    )
                    # the closed pages' kernels end before the next count
                    deadline = time.monotonic() + 60
                    while len(kernels(app)) > idle and time.monotonic() < deadline:
                        time.sleep(0.5)
                context.close()
        finally:
            app.send_signal(2)  # Ctrl+C
            app.wait(60)


if __name__ == "__main__":
    main()
