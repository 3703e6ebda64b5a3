"""Grading the exercises with nbgrader's own commands, headless.

In a scratch course directory (course/nbgrader_config.py and the source
notebooks, a gradebook.db of its own) an instructor's round:
``nbgrader generate_assignment``, three submissions made from the student
release, ``nbgrader autograde`` and ``nbgrader generate_feedback``:

- alice put each solution into its marked cell: full marks;
- bob handed the release back untouched: 0, and the feedback HTML shows,
  for every graded cell, the check's report (what was sent, what was
  expected, what came back, the hint);
- carol handed in exercise 3 with one typical bug, no threads: partial
  marks, and the feedback names several-clients with its hint.
"""

from __future__ import annotations

import html
import re

import nbformat
import pytest

pytest.register_assert_rewrite("course_support")

from course_support import (  # noqa: E402
    ALL,
    ASSIGNMENT,
    copy_course,
    marked_cell,
    nbgrader,
    solution_source,
    with_solution,
)

from labkit.check import CASES  # noqa: E402

THREADED = ALL[2]
NO_THREADS = (
    "        t = threading.Thread(target=handle_client, args=(c,), daemon=True)\n"
    "        t.start()\n",
    "        handle_client(c)  # one client at a time\n",
)


def submit(course, student: str, sources: dict[str, str | None]) -> None:
    """submitted/<student>/exercises/: each named release notebook, with its
    marked cell's source replaced when one is given."""
    release = course / "release" / ASSIGNMENT
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, source in sources.items():
        notebook = nbformat.read(release / f"{name}.ipynb", as_version=4)
        if source is not None:
            marked_cell(notebook).source = source
        nbformat.write(notebook, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course graded once: release, three submissions, autograde, feedback."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    nbgrader("generate_assignment", ASSIGNMENT, cwd=course)
    submit(course, "alice", {e.notebook: with_solution(e) for e in ALL})
    submit(course, "bob", {e.notebook: None for e in ALL})
    old, new = NO_THREADS
    solution = solution_source(THREADED)
    assert old in solution
    buggy = with_solution(THREADED, solution.replace(old, new))
    submit(course, "carol", {THREADED.notebook: buggy})
    nbgrader("autograde", ASSIGNMENT, cwd=course, timeout=600)
    nbgrader("generate_feedback", ASSIGNMENT, cwd=course)
    return course


def scores(course, student: str) -> dict[str, tuple[float, float]]:
    """{notebook: (score, max_score)}, and "" for the whole submission."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        result = {"": (submission.score, submission.max_score)}
        for notebook in submission.notebooks:
            result[notebook.name] = (notebook.score, notebook.max_score)
        return result


def cell_scores(course, student: str, notebook: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(notebook, ASSIGNMENT, student)
        return {grade.name: grade.score for grade in submission.grades}


def feedback(course, student: str, notebook: str) -> dict[str, str]:
    """The feedback page's text, per graded cell: {grade_id: its text}."""
    path = course / "feedback" / student / ASSIGNMENT / f"{notebook}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
    parts = re.split(r"Grade cell: (graded-[a-z-]+)", text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def hint(service: str, case: str) -> str:
    return next(c.hint for c in CASES[service] if c.name == case)


@pytest.mark.timeout(900)
def test_the_solutions_score_full_marks(course):
    for name, (score, top) in scores(course, "alice").items():
        assert score == top > 0, f"{name or 'alice'}: {score} of {top}"


@pytest.mark.timeout(900)
def test_the_untouched_release_scores_zero_and_says_why(course):
    for name, (score, top) in scores(course, "bob").items():
        assert score == 0 < top, f"{name or 'bob'}: {score} of {top}"
    for exercise in ALL:
        cells = feedback(course, "bob", exercise.notebook)
        assert cells.keys() == cell_scores(course, "bob", exercise.notebook).keys()
        for grade_id, text in cells.items():
            failed = re.findall(r"^FAIL (\S+)", text, re.MULTILINE)
            assert failed, f"{exercise.notebook} {grade_id}: no FAIL line:\n{text}"
            for case in failed:
                assert hint(exercise.service, case) in text, (grade_id, case)
            assert "sent:" in text and "expected:" in text and "came back" in text


@pytest.mark.timeout(900)
def test_one_typical_bug_gets_partial_marks_and_its_reason(course):
    score, top = scores(course, "carol")[THREADED.notebook]
    assert 0 < score < top
    graded = cell_scores(course, "carol", THREADED.notebook)
    assert [name for name, got in graded.items() if got == 0] == ["graded-concurrency"]
    text = feedback(course, "carol", THREADED.notebook)["graded-concurrency"]
    assert "FAIL several-clients" in text
    assert hint("echo", "several-clients") in text
    other = feedback(course, "carol", THREADED.notebook)["graded-bytes-back"]
    assert "FAIL" not in other and "AssertionError" not in other
