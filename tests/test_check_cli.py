"""``python -m labkit check``: exit statuses, the last line, --only, --junit."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from support import ServeProcess, free_port


def labkit_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labkit", "check", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.timeout(90)
def test_a_correct_server_passes_with_exit_status_0():
    with ServeProcess("blackjack") as server:
        done = labkit_check("blackjack", server.host, str(server.port))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "24 of 24 checks passed"


@pytest.mark.timeout(90)
def test_a_failing_case_gives_exit_status_1_and_junit_lists_it(tmp_path):
    junit = tmp_path / "report.xml"
    with ServeProcess("echo", "--transport", "iterative") as server:
        done = labkit_check(
            "echo", server.host, str(server.port), "--junit", str(junit)
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "6 of 7 checks passed"
    assert "FAIL several-clients" in done.stdout
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures")) == ("7", "1")
    failures = {
        case.get("name"): case.find("failure")
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    assert list(failures) == ["several-clients"]
    assert "while the other 4 stay open" in failures["several-clients"].get("message")
    assert "threading.Thread" in failures["several-clients"].text


@pytest.mark.timeout(90)
def test_only_runs_the_cases_named():
    with ServeProcess("echo", "--transport", "iterative") as server:
        done = labkit_check(
            "echo", server.host, str(server.port), "--only", "binary", "half-close"
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "several-clients" not in done.stdout
    assert done.stdout.splitlines()[-1] == "2 of 2 checks passed"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "args, message",
    [
        (("echo", "127.0.0.1", "PORT"), "nothing listens on 127.0.0.1:"),
        (("tables", "127.0.0.1", "9"), "invalid choice"),
        (("echo", "127.0.0.1", "99999"), "is not a port"),
        (("echo", "127.0.0.1", "PORT", "--only", "nope"), "no case 'nope'"),
    ],
)
def test_no_server_or_bad_arguments_give_exit_status_2(args, message):
    port = str(free_port())
    done = labkit_check(*(port if arg == "PORT" else arg for arg in args))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
