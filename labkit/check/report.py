"""What a check found: per case, PASS or FAIL with the evidence, as text or JUnit.

The plain text is the report: the terminal prints it, nbval and autograders
compare it, and the widget shows the same facts in colour. It holds no
address, port or timing, so the same server gives the same text every run.
Its last line is exactly ``N of M checks passed``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


def _slug(words: str) -> str:
    """``bytes, not text`` -> ``bytes-not-text``, for a JUnit class name."""
    return "-".join(words.replace(",", " ").split())


@dataclass
class CaseResult:
    name: str  # kebab-case, e.g. "several-clients"
    group: str  # what it teaches, e.g. "concurrency"
    title: str  # one line: what it checks
    passed: bool
    sent: list[str] = field(default_factory=list)  # the end of what was sent
    expected: str = ""
    received: list[str] = field(default_factory=list)  # the end of what came back
    hint: str = ""
    seconds: float = 0.0

    def details(self) -> str:
        """The failure's evidence, indented; empty for a pass."""
        if self.passed:
            return ""
        lines = ["    sent:"]
        lines += [f"      {line}" for line in self.sent] or ["      (nothing)"]
        lines.append(f"    expected: {self.expected}")
        lines.append("    came back (the end):")
        lines += [f"      {line}" for line in self.received] or ["      (nothing)"]
        lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)


@dataclass
class CheckReport:
    service: str
    address: tuple[str, int]
    results: list[CaseResult]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # facts beside pass/fail

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if not result.passed]

    def __getitem__(self, name: str) -> CaseResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [f"labkit check {self.service}", *self.notes]
        width = max((len(r.name) for r in self.results), default=0)
        for result in self.results:
            mark = "PASS" if result.passed else "FAIL"
            lines.append(
                f"{mark} {result.name:<{width}}  {result.group}: {result.title}"
            )
            if not result.passed:
                lines.append(result.details())
        lines.append(f"{self.passed} of {self.total} checks passed")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<CheckReport {self.service}: {self.passed} of {self.total} checks passed>"
        )

    def junit(self) -> str:
        """The report as JUnit XML, for GitHub Classroom, Gradescope or any CI."""
        suite = ET.Element(
            "testsuite",
            name=f"labkit check {self.service}",
            tests=str(self.total),
            failures=str(self.total - self.passed),
            errors="0",
            time=f"{self.seconds:.3f}",
        )
        for result in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"labkit.check.{self.service}.{_slug(result.group)}",
                name=result.name,
                time=f"{result.seconds:.3f}",
            )
            if not result.passed:
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{result.title}: expected {result.expected}",
                    type="CheckFailed",
                )
                failure.text = result.details()
        ET.indent(suite)
        return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"

    # -- in Jupyter: the widget, with the text for nbval and autograders ------

    def widget(self):
        """An ipywidgets box: a row per case, green or red."""
        from .widget import report_widget

        return report_widget(self)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        bundle = dict(self.widget()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = str(self)
        return bundle

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
