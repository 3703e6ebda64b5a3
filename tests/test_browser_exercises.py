"""The exercises as a learner does them: JupyterLab in headless Chromium.

Opens exercises of the student release (made by nbgrader from
course/source/) where ``make lab`` puts them (exercises/), pastes code into
the cell marked ``# YOUR SERVER HERE`` (or ``# YOUR CLIENT HERE``), runs that
cell and the check cell, and reads the check's widget: a row per case,
``.labkit-check-row[data-case][data-passed]``.

- Exercise 3: the threaded solution turns every row green; the iterative one
  (exercise 2's) leaves exactly the several-clients row red, with its hint.
- Exercises 5 (a client) and 6 (socketserver): the starter as it comes runs
  without an error and fails some cases, each red row with its hint; the
  solution pasted in turns every row green.

Needs Debian's chromium (skipped without it, required in CI); on failure the
page's screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import nbformat
import pytest

pytest.register_assert_rewrite("browser_support", "course_support")
pytest_plugins = ["browser_support", "course_support"]

from browser_support import (  # noqa: E402
    JupyterLab,
    open_notebook,
    run_cells,
    stderr_outputs,
)
from course_support import (  # noqa: E402
    ALL,
    CLIENT_MARK,
    MARK,
    solution_source,
    with_solution,
)

from labkit.check import CASES, case_names  # noqa: E402

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=10_000)

ITERATIVE, THREADED = ALL[1], ALL[2]  # exercises 2 and 3
SEVERAL = "several-clients"

# The source of cell ``index`` as the front end holds it (what runs).
CELL_SOURCE_JS = """(index) => window.jupyterapp.shell.currentWidget.content
    .widgets[index].model.sharedModel.getSource()"""


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, student_release):
    """JupyterLab serving the student release in exercises/, as make lab does."""
    with JupyterLab.start(
        tmp_path_factory.mktemp("jupyterlab"), folders={"exercises": student_release}
    ) as lab:
        yield lab


def cell_indices(lab: JupyterLab, notebook: str) -> tuple[int, int]:
    """The indices of the marked cell and of the check cell."""
    cells = nbformat.read(lab.root / "exercises" / f"{notebook}.ipynb", 4).cells
    code = [(i, c.source) for i, c in enumerate(cells) if c.cell_type == "code"]
    marked = [i for i, source in code if MARK in source or CLIENT_MARK in source]
    checks = [i for i, source in code if "labkit.check(" in source]
    assert len(marked) == len(checks) == 1, (marked, checks)
    return marked[0], checks[0]


def paste_into_cell(page, index: int, source: str) -> None:
    """Select all of the cell's text and paste ``source`` over it, as a
    learner does; the pasted text keeps its indentation."""
    editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(source)
    assert page.evaluate(CELL_SOURCE_JS, index) == source


def rows(page, check: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(check).locator(".labkit-check-row")


@pytest.mark.timeout(150)  # the internal waits fail first, with a message
def test_exercise_3_threaded_is_all_green_iterative_fails_several_clients(
    page, jupyterlab
):
    marked, check = cell_indices(jupyterlab, THREADED.notebook)
    cases = case_names("echo")
    open_notebook(page, jupyterlab, f"exercises/{THREADED.notebook}.ipynb")
    # As in make lab: nbgrader's menus (an instructor's) are not loaded.
    plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
    assert "@jupyterlab/notebook-extension:tracker" in plugins
    assert not [
        p for p in plugins if p.startswith(("@jupyter/nbgrader", "@jupyter-notebook"))
    ]
    run_cells(page, 0, marked - 1)  # import labkit

    # The threaded solution: every case green.
    paste_into_cell(page, marked, with_solution(THREADED))
    run_cells(page, marked, check)
    expect(rows(page, check)).to_have_count(len(cases))
    expect(rows(page, check).and_(page.locator('[data-passed="true"]'))).to_have_count(
        len(cases)
    )
    assert [row.get_attribute("data-case") for row in rows(page, check).all()] == cases

    # The iterative one: several-clients alone is red, and says why.
    # exercise 2's solution, run under exercise 3's name
    iterative = with_solution(THREADED, solution_source(ITERATIVE)).replace(
        f"run_server({THREADED.function})", f"run_server({ITERATIVE.function})"
    )
    paste_into_cell(page, marked, iterative)
    run_cells(page, marked, check)
    red = rows(page, check).and_(page.locator('[data-passed="false"]'))
    expect(red).to_have_count(1)
    expect(red).to_have_attribute("data-case", SEVERAL)
    hint = next(case.hint for case in CASES["echo"] if case.name == SEVERAL)
    expect(red.locator(".labkit-check-hint")).to_have_text(f"hint: {hint}")
    expect(rows(page, check).and_(page.locator('[data-passed="true"]'))).to_have_count(
        len(cases) - 1
    )

    # The last cell stops the learner's server.
    run_cells(page, check + 1)
    last = page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea")
    expect(last).to_contain_text("is stopped")
    assert not stderr_outputs(page)


@pytest.mark.parametrize("exercise", [ALL[4], ALL[5]], ids=lambda e: e.notebook)
@pytest.mark.timeout(240)  # the internal waits fail first, with a message
def test_the_starter_fails_with_hints_and_the_solution_is_all_green(
    page, jupyterlab, exercise
):
    marked, check = cell_indices(jupyterlab, exercise.notebook)
    cases = case_names(exercise.service)
    hints = {case.name: case.hint for case in CASES[exercise.service]}
    open_notebook(page, jupyterlab, f"exercises/{exercise.notebook}.ipynb")

    # The starter as it comes: it runs, and some cases fail, each with its hint.
    run_cells(page, 0, check, timeout=120)
    expect(rows(page, check)).to_have_count(len(cases))
    red = rows(page, check).and_(page.locator('[data-passed="false"]'))
    expect(red.first).to_be_visible()
    for row in red.all():
        hint = hints[row.get_attribute("data-case")]
        expect(row.locator(".labkit-check-hint")).to_have_text(f"hint: {hint}")

    # The solution pasted over it: every case green.
    paste_into_cell(page, marked, with_solution(exercise))
    run_cells(page, marked, check, timeout=120)
    green = rows(page, check).and_(page.locator('[data-passed="true"]'))
    expect(green).to_have_count(len(cases))
    run_cells(page, check + 1)
    assert not stderr_outputs(page)
