"""The set-up agrees with itself: environment.yml and pyproject.toml name the
same packages, CI runs the README's test command, and `make lab` serves
JupyterLab with token authentication on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names that differ from the PyPI names in pyproject.toml.
CONDA_TO_PYPI = {
    "matplotlib-base": "matplotlib",  # matplotlib without a GUI toolkit
    "playwright-python": "playwright",
    "jupyterhub-base": "jupyterhub",  # the hub without its proxy (npm's)
}
NOT_PACKAGES = {"python", "pip"}


def normalise(name: str) -> str:
    """A package name as PEP 503 compares them: lower case, runs of -_. as -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str | None:
    """The name in a requirement (`twisted >=23.10`, `nbval=0.11`, `a[b]>1`).

    None for what names no package: a local path or an editable install.
    """
    spec = spec.strip()
    if spec.startswith(("-", ".", "/")) or "://" in spec:
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    return normalise(match.group()) if match else None


def environment_requirements(text: str) -> list[str]:
    """The entries of `dependencies:` in an environment.yml, pip's included.

    A small reader for the one shape conda environment files have: a
    top-level `dependencies:` list whose items are strings or one `pip:` list.
    """
    entries: list[str] = []
    in_dependencies = False
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith((" ", "-")):  # a top-level key
            in_dependencies = line.startswith("dependencies:")
            continue
        item = line.strip()
        if in_dependencies and item.startswith("- "):
            value = item[2:].strip().strip("'\"")
            if value != "pip:":
                entries.append(value)
    return entries


def environment_names(text: str) -> set[str]:
    names = set()
    for entry in environment_requirements(text):
        name = requirement_name(entry)
        if name and name not in NOT_PACKAGES:
            names.add(CONDA_TO_PYPI.get(name, name))
    return names


def pyproject_names(data: dict) -> set[str]:
    project = data["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    names = {requirement_name(spec) for spec in specs}
    return {name for name in names if name} - NOT_PACKAGES


def differences(pyproject: set[str], environment: set[str]) -> dict[str, set[str]]:
    """What one names and the other does not; empty when they agree."""
    found = {
        "only in pyproject.toml": pyproject - environment,
        "only in environment.yml": environment - pyproject,
    }
    return {where: names for where, names in found.items() if names}


def load_pyproject() -> dict:
    tomllib = pytest.importorskip(
        "tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib"
    )
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# -- the comparison itself, on pairs made to agree or not --------------------

ENVIRONMENT = """\
name: demo
channels:
  - conda-forge
dependencies:
  - python >=3.10
  - pip
  - Jupyter_Lab >=4,<5   # case and separators differ
  - matplotlib-base
  - pip:
      - -e .[test]
      - pexpect>=4.9
"""


def test_reader_finds_conda_and_pip_entries():
    assert environment_requirements(ENVIRONMENT) == [
        "python >=3.10",
        "pip",
        "Jupyter_Lab >=4,<5",
        "matplotlib-base",
        "-e .[test]",
        "pexpect>=4.9",
    ]
    assert environment_names(ENVIRONMENT) == {"jupyter-lab", "matplotlib", "pexpect"}


def test_a_matching_pair_has_no_differences():
    pyproject = {
        "project": {
            "dependencies": ["jupyter-lab>=4,<5", "matplotlib>=3.7"],
            "optional-dependencies": {"test": ["pexpect[extra]>=4.9"]},
        }
    }
    assert differences(pyproject_names(pyproject), environment_names(ENVIRONMENT)) == {}


def test_a_mismatched_pair_is_reported_both_ways():
    pyproject = {
        "project": {
            "dependencies": ["jupyter-lab>=4,<5", "twisted>=23.10"],
            "optional-dependencies": {"test": ["pexpect"]},
        }
    }
    assert differences(pyproject_names(pyproject), environment_names(ENVIRONMENT)) == {
        "only in pyproject.toml": {"twisted"},
        "only in environment.yml": {"matplotlib"},
    }


# -- the real files ------------------------------------------------------------


def test_environment_yml_names_the_same_packages_as_pyproject():
    environment = (ROOT / "environment.yml").read_text()
    found = differences(
        pyproject_names(load_pyproject()), environment_names(environment)
    )
    assert found == {}, (
        f"environment.yml and pyproject.toml disagree: {found}; add the package "
        "to both (conda-forge names that differ go in CONDA_TO_PYPI)"
    )


def test_environment_yml_installs_labkit_from_this_folder():
    entries = environment_requirements((ROOT / "environment.yml").read_text())
    assert any(re.fullmatch(r"-e \.(\[[\w,]+\])?", entry) for entry in entries), entries


def test_the_reader_agrees_with_a_yaml_parser():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    text = (ROOT / "environment.yml").read_text()
    entries = []
    for item in yaml.safe_load(text)["dependencies"]:
        entries += item["pip"] if isinstance(item, dict) else [item]
    assert environment_requirements(text) == entries


# -- CI, the README and the Makefile tell the same story ----------------------


def test_ci_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines()]
    assert any(re.match(r"(\S+=\S+ )*make test\b", c) for c in commands), (
        ".ci/run must run the README's `make test`"
    )
    assert "LABKIT_REQUIRE_ALL=1" in script
    assert os.access(ROOT / ".ci" / "run", os.X_OK), ".ci/run is not executable"


def test_readme_quick_start_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    sections = re.split(r"^## ", readme, flags=re.MULTILINE)
    assert len(sections) > 1 and sections[1].lower().startswith("quick start")
    assert "make lab" in sections[1] and "make test" in sections[1]


def make(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def test_make_test_runs_the_whole_suite_in_one_pytest():
    commands = [line for line in make("-n", "test").splitlines() if "pytest" in line]
    assert len(commands) == 1, commands
    assert "--nbval" in commands[0] and commands[0].endswith("tests notebooks")
