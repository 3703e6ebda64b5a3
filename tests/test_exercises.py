"""The exercises (exercises/NN-*.ipynb) and their solutions (exercises/solutions/).

Each solution passes its exercise's check in full, run by labkit.run_server;
each untouched starter fails it, quickly and without a traceback; and each
notebook runs top to bottom, as handed out and with the solution put into
its marked cell, its check cell showing the report rather than raising.
"""

from __future__ import annotations

import ast
import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import labkit

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"
MARK = "# YOUR SERVER HERE"


@dataclass(frozen=True)
class Exercise:
    notebook: str
    solution: str  # exercises/solutions/<solution>.py
    function: str  # the server function, in the starter and in the solution
    service: str


ALL = [
    Exercise("01-hello", "01_hello", "hello_server", "hello"),
    Exercise("02-echo", "02_echo", "echo_server", "echo"),
    Exercise("03-threaded-echo", "03_threaded_echo", "threaded_echo_server", "echo"),
    Exercise("04-blackjack", "04_blackjack", "blackjack_server", "blackjack"),
]
ids = [exercise.notebook for exercise in ALL]


def read_notebook(exercise: Exercise):
    return nbformat.read(EXERCISES / f"{exercise.notebook}.ipynb", as_version=4)


def marked_cell(notebook):
    cells = [c for c in notebook.cells if c.cell_type == "code" and MARK in c.source]
    assert len(cells) == 1, f"one cell marked {MARK!r}, not {len(cells)}"
    return cells[0]


def check_cell(notebook):
    cells = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and "labkit.check(" in c.source
    ]
    assert len(cells) == 1, f"one check cell, not {len(cells)}"
    return cells[0]


def only_of(exercise: Exercise) -> list[str] | None:
    """The ``only=`` of the notebook's check cell: what the exercise asks."""
    call = ast.parse(check_cell(read_notebook(exercise)).source)
    for node in ast.walk(call):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "labkit.check":
            assert ast.literal_eval(node.args[0]) == exercise.service
            for keyword in node.keywords:
                if keyword.arg == "only":
                    return ast.literal_eval(keyword.value)
            return None
    raise AssertionError("the check cell calls labkit.check")


def solution_source(exercise: Exercise) -> str:
    return (EXERCISES / "solutions" / f"{exercise.solution}.py").read_text()


def load_solution(exercise: Exercise):
    path = EXERCISES / "solutions" / f"{exercise.solution}.py"
    spec = importlib.util.spec_from_file_location(f"solution_{exercise.solution}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, exercise.function)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_solution_passes_its_check(exercise, no_leaks, capfd):
    server = labkit.run_server(load_solution(exercise))
    try:
        report = labkit.check(exercise.service, server, only=only_of(exercise))
        assert report.ok, str(report)
        assert not server.errors, server.errors
    finally:
        assert server.stop(), server.message
    assert "Traceback" not in "".join(capfd.readouterr())


@pytest.mark.timeout(90)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_untouched_starter_fails_cleanly(exercise, no_leaks, capfd):
    notebook = read_notebook(exercise)
    cell = marked_cell(notebook)
    namespace: dict = {"labkit": labkit}
    exec(compile(cell.source, f"{exercise.notebook} starter", "exec"), namespace)
    server = namespace["server"]
    try:
        assert server.running, server.message
        began = time.monotonic()
        report = labkit.check(exercise.service, server, only=only_of(exercise))
        took = time.monotonic() - began
        assert not report.ok and report.failures
        assert str(report).splitlines()[-1] == (
            f"{report.passed} of {report.total} checks passed"
        )
        assert took < 30, f"the check took {took:.1f} s against the starter"
    finally:
        assert server.stop(), server.message
    assert "Traceback" not in "".join(capfd.readouterr())


def run_notebook(notebook) -> None:
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXERCISES)}},
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
def test_the_notebook_runs_as_handed_out(exercise):
    notebook = read_notebook(exercise)
    assert all(
        not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"
    ), "exercises are stored without outputs"
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "Things to try" in text and MARK in text
    assert "solutions" not in text  # the learner's copy points to none
    run_notebook(notebook)
    assert_ran_cleanly(notebook)
    passed, total = last_report_line(notebook)
    assert passed < total
    assert "is stopped" in outputs_text(notebook.cells[-1])


@pytest.mark.timeout(180)
@pytest.mark.parametrize("exercise", ALL, ids=ids)
def test_the_notebook_with_the_solution_in_its_cell_is_all_green(exercise):
    notebook = read_notebook(exercise)
    cell = marked_cell(notebook)
    cell.source = (
        solution_source(exercise)
        + f"\n\nserver = labkit.run_server({exercise.function})\n"
        + "print(server.message)\n"
    )
    run_notebook(notebook)
    assert_ran_cleanly(notebook)
    passed, total = last_report_line(notebook)
    assert passed == total > 0
