"""The notebooks as a learner meets them: JupyterLab in headless Chromium.

nbval checks what the kernel prints; this checks what the page shows, through
the real front end: the notebook opens, its kernel starts, Run > Run All Cells
runs it, the outputs appear, widgets render and answer a click, and nothing
lands on stderr. Needs Debian's chromium (skipped without it, required in CI).
"""

from __future__ import annotations

import re

import pytest

# browser_support is also this module's plugin (fixtures jupyterlab and page,
# the screenshot on failure); registered before the import so that its
# asserts are rewritten like a test's.
pytest.register_assert_rewrite("browser_support")
pytest_plugins = ["browser_support"]

from browser_support import (  # noqa: E402
    open_notebook,
    output_texts,
    run_all_cells,
    stderr_outputs,
)

pytestmark = pytest.mark.browser

# What 00-start-here shows once it has run: one fact from each part.
START_HERE_EXPECTED = [
    "loopback 127.0.0.1 carries bytes both ways: yes",
    "the kernel answered click 1",
    re.compile(r"the hello server listens on 127\.0\.0\.1:\d+"),
    "Hello 127.0.0.1",
    "S: every byte comes back",
    "status line: HTTP/1.0 200 OK",
    "page title:  labkit: a page served from your own machine",
    "every server stopped; no labkit thread left",
]


def check_outputs(page, expected: list) -> None:
    """Every expected text (or pattern) is on the page, and nothing on stderr."""
    errors = stderr_outputs(page)
    assert not errors, "the notebook wrote to stderr:\n" + "\n---\n".join(errors)
    shown = "\n".join(output_texts(page))
    for item in expected:
        pattern = item if isinstance(item, re.Pattern) else re.escape(item)
        assert re.search(pattern, shown), f"{item!r} is not on the page:\n{shown}"


@pytest.mark.timeout(150)  # the internal waits fail first, with a message
def test_start_here_runs_in_jupyterlab(page, jupyterlab):
    open_notebook(page, jupyterlab, "00-start-here.ipynb")
    run_all_cells(page)
    check_outputs(page, START_HERE_EXPECTED)

    # Again in the same kernel: the servers are replaced, not "in use".
    run_all_cells(page)
    check_outputs(page, START_HERE_EXPECTED)

    # Widgets render (their labextension was found) and the kernel answers a
    # real click in the browser: the notebook's own click was number 1.
    banner = page.locator(".labkit-widgets-work")
    assert banner.inner_text().strip() == "Widgets work in this browser."
    page.locator(".labkit-ping").click()
    answer = page.locator(".labkit-ping-answer")
    answer.filter(has_text="the kernel answered click 2").wait_for(timeout=10_000)
