"""The exercises (course/source/exercises/, nbgrader source notebooks) and the
student release that nbgrader makes of them.

Each solution passes its exercise's check in full, run by labkit.run_server
(a client exercise's solution is the function labkit.check calls);
the release holds no solution and no hidden test, and each of its untouched
starters fails the check, quickly and without a traceback; and each released
notebook runs top to bottom, as handed out and with the solution put into
its marked cell, its check cell showing the report rather than raising.
"""

from __future__ import annotations

import ast
import time

import nbformat
import pytest
from nbclient import NotebookClient

# course_support is this module's plugin too (the student_release fixture),
# registered before the import so that its asserts are rewritten.
pytest.register_assert_rewrite("course_support")
pytest_plugins = ["course_support"]

from course_support import (  # noqa: E402
    ALL,
    BEGIN,
    END,
    SOURCE,
    Exercise,
    marked_cell,
    solution_source,
    with_solution,
)

import labkit  # noqa: E402

ids = [exercise.notebook for exercise in ALL]


def read_release(release, exercise: Exercise):
    return nbformat.read(release / f"{exercise.notebook}.ipynb", as_version=4)


def check_cell(notebook):
    cells = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and "labkit.check(" in c.source
    ]
    assert len(cells) == 1, f"one check cell, not {len(cells)}"
    return cells[0]


def only_of(notebook, exercise: Exercise) -> list[str] | None:
    """The ``only=`` of the notebook's check cell: what the exercise asks."""
    call = ast.parse(check_cell(notebook).source)
    for node in ast.walk(call):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "labkit.check":
            assert ast.literal_eval(node.args[0]) == exercise.service
            for keyword in node.keywords:
                if keyword.arg == "only":
                    return ast.literal_eval(keyword.value)
            return None
    raise AssertionError("the check cell calls labkit.check")


def load_solution(exercise: Exercise):
    namespace: dict = {}
    exec(compile(solution_source(exercise), exercise.notebook, "exec"), namespace)
    return namespace[exercise.function]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_release_has_the_starter_and_no_solution(exercise, student_release):
    source = nbformat.read(SOURCE / f"{exercise.notebook}.ipynb", as_version=4)
    release = read_release(student_release, exercise)
    lines = marked_cell(source).source.split("\n")
    starter = lines[: lines.index(BEGIN)] + [""] + lines[lines.index(END) + 1 :]
    assert marked_cell(release).source == "\n".join(starter)
    text = "\n".join(cell.source for cell in release.cells)
    for secret in (BEGIN, END, "HIDDEN TESTS", solution_source(exercise).strip()):
        assert secret not in text, f"the release holds {secret[:60]!r}"
    check_cell(release)  # the graded cells call no check: theirs is hidden
    graded = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and all(c.metadata.nbgrader.locked for c in graded)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_solution_passes_its_check(exercise, student_release, no_leaks, capfd):
    only = only_of(read_release(student_release, exercise), exercise)
    if exercise.client:
        report = labkit.check(exercise.service, load_solution(exercise), only=only)
        assert report.ok, str(report)
        assert "Traceback" not in "".join(capfd.readouterr())
        return
    server = labkit.run_server(load_solution(exercise))
    try:
        report = labkit.check(exercise.service, server, only=only)
        assert report.ok, str(report)
        assert not server.errors, server.errors
    finally:
        assert server.stop(), server.message
    assert "Traceback" not in "".join(capfd.readouterr())


@pytest.mark.timeout(90)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_untouched_starter_fails_cleanly(
    exercise, student_release, no_leaks, capfd
):
    notebook = read_release(student_release, exercise)
    cell = marked_cell(notebook)
    namespace: dict = {"labkit": labkit}
    exec(compile(cell.source, f"{exercise.notebook} starter", "exec"), namespace)
    if exercise.client:
        began = time.monotonic()
        report = labkit.check(
            exercise.service,
            namespace[exercise.function],
            only=only_of(notebook, exercise),
        )
        took = time.monotonic() - began
        assert not report.ok and report.failures
        assert str(report).splitlines()[-1] == (
            f"{report.passed} of {report.total} checks passed"
        )
        assert took < 30, f"the check took {took:.1f} s against the starter"
        assert "Traceback" not in "".join(capfd.readouterr())
        return
    server = namespace["server"]
    try:
        assert server.running, server.message
        began = time.monotonic()
        report = labkit.check(
            exercise.service, server, only=only_of(notebook, exercise)
        )
        took = time.monotonic() - began
        assert not report.ok and report.failures
        assert str(report).splitlines()[-1] == (
            f"{report.passed} of {report.total} checks passed"
        )
        assert took < 30, f"the check took {took:.1f} s against the starter"
    finally:
        assert server.stop(), server.message
    assert "Traceback" not in "".join(capfd.readouterr())


def run_notebook(notebook, where) -> None:
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(where)}},
    )
    client.execute()


def outputs_text(cell) -> str:
    texts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            texts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            texts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            texts.append("\n".join(output.traceback))
    return "\n".join(texts)


def last_report_line(notebook) -> tuple[int, int]:
    text = outputs_text(check_cell(notebook)).rstrip()
    last = text.splitlines()[-1] if text else "(no output)"
    words = last.split()
    assert words[1:2] == ["of"] and words[3:] == ["checks", "passed"], last
    return int(words[0]), int(words[2])


def assert_ran_cleanly(notebook) -> None:
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert all(o.output_type != "error" for o in cell.outputs), outputs_text(cell)
        assert "Traceback" not in outputs_text(cell), outputs_text(cell)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_notebook_runs_as_handed_out(exercise, student_release):
    notebook = read_release(student_release, exercise)
    assert all(
        not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"
    ), "exercises are stored without outputs"
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "Things to try" in text and exercise.mark in text
    run_notebook(notebook, student_release)
    assert_ran_cleanly(notebook)
    passed, total = last_report_line(notebook)
    assert passed < total
    if not exercise.client:  # a server exercise ends by stopping the server
        assert "is stopped" in outputs_text(notebook.cells[-1])


@pytest.mark.timeout(180)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_notebook_with_the_solution_in_its_cell_is_all_green(
    exercise, student_release
):
    notebook = read_release(student_release, exercise)
    marked_cell(notebook).source = with_solution(exercise)
    run_notebook(notebook, student_release)
    assert_ran_cleanly(notebook)
    passed, total = last_report_line(notebook)
    assert passed == total > 0
