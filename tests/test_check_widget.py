"""The check report in Jupyter: a widget with a row per case, and its text."""

from __future__ import annotations

import pytest

from labkit.check import check


@pytest.mark.timeout(60)
def test_the_report_displays_as_a_widget_with_its_text(start):
    report = check(
        "echo", start("echo", "iterative"), only=["binary", "several-clients"]
    )
    bundle = report._repr_mimebundle_()
    assert bundle["text/plain"] == str(report)
    assert str(report).splitlines()[-1] == "1 of 2 checks passed"
    assert "application/vnd.jupyter.widget-view+json" in bundle

    box = report.widget()
    assert "labkit-check" in box._dom_classes
    html = "".join(child.value for child in box.children)
    assert (
        '<div class="labkit-check-row" data-case="binary" data-passed="true">' in html
    )
    assert (
        '<div class="labkit-check-row" data-case="several-clients" '
        'data-passed="false">' in html
    )
    assert "hint: the server serves one client at a time" in html
    assert "1 of 2 checks passed" in html
    for child in box.children:
        child.close()
    box.close()


@pytest.mark.timeout(60)
def test_what_came_back_is_escaped(start):
    report = check("echo", start("echo", "iterative"), only=["several-clients"])
    report.results[0].received.append("<script>alert(1)</script>")
    html = "".join(child.value for child in report.widget().children)
    assert "<script>" not in html and "&lt;script&gt;" in html
