"""A check's report as a widget: a row per case, green or red, the evidence below.

Each row is an HTML widget whose element carries the page contract
``<div class="labkit-check-row" data-case="NAME" data-passed="true|false">``
(ipywidgets cannot put data attributes on a widget itself); the root box has
the class ``labkit-check``. The report's plain text stays the text/plain form.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

from .report import CaseResult, CheckReport

CSS = """
<style>
.labkit-check { font-family: var(--jp-ui-font-family, system-ui, sans-serif); }
.labkit-check .widget-html-content { height: auto; line-height: 1.35; }
.labkit-check-title { font-size: 14px; font-weight: 700; margin: 2px 0 6px; }
.labkit-check-row {
  border-left: 6px solid; border-radius: 4px; margin: 2px 0; padding: 3px 8px;
}
.labkit-check-row[data-passed="true"] { background: #e6f4ea; border-color: #1e8e3e; }
.labkit-check-row[data-passed="false"] { background: #fce8e6; border-color: #c5221f; }
.labkit-check-name {
  font-family: var(--jp-code-font-family, monospace); font-weight: 700;
}
.labkit-check-group { color: #555; font-size: 12px; }
.labkit-check-row pre {
  background: rgba(0, 0, 0, 0.05); font-size: 12px; margin: 4px 0; padding: 4px 6px;
  white-space: pre-wrap;
}
.labkit-check-hint { font-style: italic; }
.labkit-check-summary { font-weight: 700; margin-top: 6px; }
</style>
"""


def row_html(result: CaseResult) -> str:
    mark = "&#10004;" if result.passed else "&#10008;"
    passed = "true" if result.passed else "false"
    html = [
        f'<div class="labkit-check-row" data-case="{escape(result.name)}" '
        f'data-passed="{passed}">',
        f'{mark} <span class="labkit-check-name">{escape(result.name)}</span> '
        f'<span class="labkit-check-group">{escape(result.group)}</span> '
        f"{escape(result.title)}",
    ]
    if not result.passed:
        sent = "\n".join(result.sent) or "(nothing)"
        received = "\n".join(result.received) or "(nothing)"
        html += [
            f"<div>sent:</div><pre>{escape(sent)}</pre>",
            f"<div>expected: {escape(result.expected)}</div>",
            f"<div>came back (the end):</div><pre>{escape(received)}</pre>",
            f'<div class="labkit-check-hint">hint: {escape(result.hint)}</div>',
        ]
    html.append("</div>")
    return "".join(html)


def report_widget(report: CheckReport) -> widgets.VBox:
    title = widgets.HTML(
        CSS + f'<div class="labkit-check-title">labkit check {escape(report.service)}'
        "</div>"
    )
    notes = [
        widgets.HTML(f'<div class="labkit-check-note">{escape(note)}</div>')
        for note in report.notes
    ]
    rows = [widgets.HTML(row_html(result)) for result in report.results]
    summary = widgets.HTML(
        f'<div class="labkit-check-summary">{report.passed} of {report.total} '
        "checks passed</div>"
    )
    box = widgets.VBox([title, *notes, *rows, summary])
    box.add_class("labkit-check")
    return box
