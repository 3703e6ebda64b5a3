"""The exercises as nbgrader source notebooks, and the student release made from them.

course/ is nbgrader's course directory: course/source/exercises/*.ipynb is
the one copy of each exercise, with its solution (a ``### BEGIN SOLUTION``
region in the cell marked ``# YOUR SERVER HERE``, or ``# YOUR CLIENT HERE``
where the learner writes a client, after the starter it replaces) and its
hidden tests. Learners get what
``nbgrader generate_assignment`` makes of it; the tests make that release
the same way, in a scratch copy of the course directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
ASSIGNMENT = "exercises"
SOURCE = COURSE / "source" / ASSIGNMENT
MARK = "# YOUR SERVER HERE"
CLIENT_MARK = "# YOUR CLIENT HERE"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


@dataclass(frozen=True)
class Exercise:
    notebook: str  # course/source/exercises/<notebook>.ipynb
    function: str  # the server function (or handler class), in starter and solution
    service: str

    @property
    def client(self) -> bool:
        """The learner writes a client; labkit.check plays the server."""
        return self.service.endswith("-client")

    @property
    def mark(self) -> str:
        return CLIENT_MARK if self.client else MARK


ALL = [
    Exercise("01-hello", "hello_server", "hello"),
    Exercise("02-echo", "echo_server", "echo"),
    Exercise("03-threaded-echo", "threaded_echo_server", "echo"),
    Exercise("04-blackjack", "blackjack_server", "blackjack"),
    Exercise("05-blackjack-client", "play", "blackjack-client"),
    Exercise("06-socketserver", "EchoHandler", "echo"),
]


def marked_cell(notebook):
    cells = [
        c
        for c in notebook.cells
        if c.cell_type == "code" and (MARK in c.source or CLIENT_MARK in c.source)
    ]
    marks = f"{MARK!r} or {CLIENT_MARK!r}"
    assert len(cells) == 1, f"one cell marked {marks}, not {len(cells)}"
    return cells[0]


def solution_source(exercise: Exercise) -> str:
    """The code of the exercise's solution region, without its markers."""
    source = nbformat.read(SOURCE / f"{exercise.notebook}.ipynb", as_version=4)
    lines = marked_cell(source).source.split("\n")
    assert lines.count(BEGIN) == lines.count(END) == 1, "one solution region"
    return "\n".join(lines[lines.index(BEGIN) + 1 : lines.index(END)]).strip() + "\n"


def with_solution(exercise: Exercise, solution: str | None = None) -> str:
    """A learner's cell holding ``solution`` (by default the exercise's own)
    in place of the starter, then the starter cell's lines after the solution
    (run_server, or a client's checkpoint)."""
    if solution is None:
        solution = solution_source(exercise)
    source = nbformat.read(SOURCE / f"{exercise.notebook}.ipynb", as_version=4)
    lines = marked_cell(source).source.split("\n")
    after = "\n".join(lines[lines.index(END) + 1 :])
    return solution.rstrip("\n") + "\n\n\n" + after


def nbgrader(*args: str, cwd: Path, timeout: float = 300) -> str:
    """Run ``nbgrader ARGS`` in the course directory ``cwd``; its output.

    nbgrader runs ``alembic`` from PATH for its gradebook, so this venv's
    bin/ goes first on it.
    """
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        [os.path.join(bin_dir, "nbgrader"), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{output}"
    return output


def copy_course(target: Path) -> Path:
    """A scratch course directory: the settings and the source notebooks."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(COURSE / "nbgrader_config.py", target / "nbgrader_config.py")
    shutil.copytree(SOURCE, target / "source" / ASSIGNMENT)
    return target


def generate_release(course: Path, *, db: bool = True) -> Path:
    """``nbgrader generate_assignment exercises`` in ``course``; the release."""
    args = ["generate_assignment", ASSIGNMENT, "--force"]
    nbgrader(*args, *([] if db else ["--no-db"]), cwd=course)
    return course / "release" / ASSIGNMENT


@pytest.fixture(scope="session")
def student_release(tmp_path_factory) -> Path:
    """The student release of the exercises, made once per test session."""
    return generate_release(copy_course(tmp_path_factory.mktemp("course")), db=False)
