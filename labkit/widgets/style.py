"""The widgets' look: one stylesheet, shipped inside the widgets themselves.

ipywidgets has no place for a stylesheet, so each widget carries a hidden
HTML widget holding a ``<style>`` element (it applies to the whole page;
the same rules twice do no harm). Every rule is scoped under a ``labkit-``
class, so nothing else on the page changes. Colours are fixed rather than
taken from the JupyterLab theme: a green felt looks the same in light and
dark themes.
"""

from __future__ import annotations

from html import escape

import ipywidgets as widgets

CSS = """
.labkit-bj-table {
  background: radial-gradient(
    ellipse at 50% 25%, #1d8a52 0%, #0f6b3d 55%, #0a4d2b 100%
  );
  border: 6px solid #5b3a1e;
  border-radius: 18px;
  box-shadow: 0 3px 12px rgba(0, 0, 0, 0.35);
  box-sizing: border-box;
  color: #f6f1e3;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  padding: 10px 18px 14px;
  width: 560px;
}
.labkit-bj-table .widget-html,
.labkit-bj-table .widget-html-content {
  color: inherit;
  height: auto;
  line-height: 1.35;
  white-space: normal;
}
.labkit-bj-header { align-items: center; justify-content: space-between; }
.labkit-bj-title { font-size: 17px; font-weight: 700; letter-spacing: 0.04em; }
.labkit-bj-title .labkit-suit-red { color: #ff8a80; }
.labkit-bj-score .labkit-score-text {
  background: rgba(0, 0, 0, 0.3);
  border-radius: 12px;
  font-size: 13px;
  padding: 3px 10px;
}
.labkit-hand { margin: 4px 0 2px; }
.labkit-hand-label {
  font-size: 12px;
  letter-spacing: 0.1em;
  margin-bottom: 5px;
  text-transform: uppercase;
}
.labkit-hand-total {
  background: rgba(0, 0, 0, 0.35);
  border-radius: 10px;
  display: inline-block;
  font-size: 13px;
  font-weight: 700;
  letter-spacing: 0;
  margin-left: 8px;
  min-width: 16px;
  padding: 0 8px;
  text-align: center;
  text-transform: none;
}
.labkit-hand-total.labkit-bust { background: #b3261e; }
.labkit-hand-cards { align-items: center; display: flex; gap: 8px; min-height: 86px; }
.labkit-hand-empty { font-style: italic; opacity: 0.65; }
.labkit-card {
  background: #fffdf6;
  border-radius: 7px;
  box-shadow: 0 2px 5px rgba(0, 0, 0, 0.45);
  box-sizing: border-box;
  color: #1c1c1c;
  flex: none;
  font-family: Georgia, "DejaVu Serif", serif;
  height: 84px;
  position: relative;
  width: 60px;
}
.labkit-card.labkit-red { color: #c62828; }
.labkit-card-corner {
  font-size: 15px;
  font-weight: 700;
  left: 6px;
  line-height: 1;
  position: absolute;
  text-align: center;
  top: 5px;
}
.labkit-card-corner-br {
  bottom: 5px;
  left: auto;
  right: 6px;
  top: auto;
  transform: rotate(180deg);
}
.labkit-card-pip {
  font-size: 32px;
  left: 50%;
  line-height: 1;
  position: absolute;
  top: 50%;
  transform: translate(-50%, -50%);
}
.labkit-card-back {
  background: repeating-linear-gradient(45deg, #1e3d8f 0 5px, #2f5cc4 5px 10px);
  border: 4px solid #fffdf6;
}
.labkit-bj-result {
  border-radius: 8px;
  font-size: 16px;
  font-weight: 700;
  margin: 6px 0 2px;
  padding: 7px 12px;
  text-align: center;
}
.labkit-bj-result[data-outcome="WIN"] { background: #f2c94c; color: #3b2a00; }
.labkit-bj-result[data-outcome="LOSE"] { background: #8e1b1b; color: #fff; }
.labkit-bj-result[data-outcome="PUSH"] { background: #dcdcdc; color: #222; }
.labkit-bj-status { font-size: 13px; margin: 4px 0; opacity: 0.95; }
.labkit-bj-buttons { align-items: center; gap: 6px; margin-top: 2px; }
.labkit-bj-buttons .jupyter-button { font-weight: 600; }
.labkit-bj-spacer { flex-grow: 1; }
.labkit-message {
  background: #fff3cd;
  border-radius: 6px;
  color: #5c4400;
  font-size: 13px;
  padding: 6px 10px;
}
.labkit-transcript {
  background: rgba(0, 0, 0, 0.55);
  border-radius: 6px;
  /* column-reverse keeps the newest line in view as lines are added */
  display: flex;
  flex-direction: column-reverse;
  margin: 6px 0 0;
  max-height: 200px;
  overflow: auto;
}
.labkit-transcript pre {
  /* not a flex item that shrinks and scrolls itself: the panel scrolls */
  flex: none;
  overflow: visible;
  color: #e8e8e8;
  font-family: var(--jp-code-font-family, monospace);
  font-size: 12px;
  line-height: 1.4;
  margin: 0;
  padding: 6px 8px;
  white-space: pre;
}
.labkit-line-c { color: #9ad0ff; }
.labkit-line-s { color: #c8f7c5; }
.labkit-echo, .labkit-monitor {
  border: 1px solid var(--jp-border-color1, #ccc);
  border-radius: 8px;
  box-sizing: border-box;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif);
  padding: 8px 12px;
  width: 560px;
}
.labkit-echo .widget-html-content,
.labkit-monitor .widget-html-content {
  height: auto;
  line-height: 1.35;
  white-space: normal;
}
.labkit-echo .labkit-transcript,
.labkit-monitor .labkit-transcript { background: #1e1e1e; }
.labkit-widget-title { font-size: 15px; font-weight: 700; }
.labkit-tiles { display: flex; gap: 8px; margin: 4px 0; }
.labkit-tile {
  background: var(--jp-layout-color2, #eee);
  border-radius: 6px;
  flex: 1;
  padding: 4px 8px;
  text-align: center;
}
.labkit-tile-value { display: block; font-size: 20px; font-weight: 700; }
.labkit-tile-name {
  display: block;
  font-size: 11px;
  opacity: 0.75;
  text-transform: uppercase;
}
.labkit-state-running { color: #1b7f3b; font-weight: 600; }
.labkit-state-stopped { color: #b3261e; font-weight: 600; }
"""


def scrolling_lines(rows: str) -> str:
    """Lines of (escaped) text in a dark panel that stays scrolled to the end."""
    return f'<div class="labkit-transcript"><pre>{rows}</pre></div>'


def transcript_html(
    lines: list[tuple[str, str]],
    names: dict[str, str] | None = None,
    empty: str = "(nothing sent or received yet)",
) -> str:
    """("C", line) and ("S", line) pairs, each side in its colour.

    ``names`` relabels the sides, e.g. {"C": "sent", "S": "back"}.
    """
    names = names or {}
    rows = "\n".join(
        f'<span class="labkit-line-{who.lower()}">'
        f"{escape(names.get(who, who))}: {escape(line)}</span>"
        for who, line in lines
    )
    return scrolling_lines(rows or escape(empty))


def stylesheet() -> widgets.HTML:
    """A hidden widget whose ``<style>`` styles every labkit widget on the page."""
    style = widgets.HTML(f"<style>{CSS}</style>")
    style.layout.display = "none"
    style.add_class("labkit-style")
    return style
