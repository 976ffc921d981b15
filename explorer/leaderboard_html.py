"""The leaderboard table as the page shows it: an HTML table with header tooltips, marked reference
and partial rows, consistent rounding, and a narrow layout for phones (model, average, first score)."""

from __future__ import annotations

import html

import pandas as pd

from .leaderboard_table import LeaderboardTable

# Column chooser entries (besides rank and model, always shown); "per-task scores" is every task column.
OPTIONAL = ["source", "average", "95% CI", "coverage", "per-task scores", "languages", "parity gap", "params",
            "size", "revision", "precision", "date"]
DEFAULT_SHOWN = ["source", "average", "95% CI", "coverage", "per-task scores", "languages", "parity gap", "params"]
# Shown on a phone: rank, model, average and the first task's score; the rest on wider screens.
NARROW_KEEP = {"rank", "model", "average", "task0"}

CSS = """
<style>
#lb-wrap { overflow-x: auto; max-height: 720px; overflow-y: auto; }
#lb-wrap table.lb { border-collapse: collapse; width: 100%; font-size: 14px; }
#lb-wrap .lb th, #lb-wrap .lb td { padding: 6px 8px; border-bottom: 1px solid var(--border-color-primary, #e5e5e5);
  text-align: right; white-space: nowrap; }
#lb-wrap .lb th { position: sticky; top: 0; background: var(--background-fill-secondary, #f7f7f7); cursor: help;
  white-space: normal; word-break: keep-all; overflow-wrap: normal; min-width: 3.5em; vertical-align: bottom;
  font-variant: normal; font-feature-settings: normal; text-transform: none; }
#lb-wrap .lb td.model, #lb-wrap .lb th.model, #lb-wrap .lb td.text, #lb-wrap .lb th.text { text-align: left; }
#lb-wrap .lb td.model { max-width: 28em; overflow: hidden; text-overflow: ellipsis; }
#lb-wrap .lb tr.reference td { font-style: italic; background: var(--background-fill-secondary, #f4f4f8); }
#lb-wrap .lb tr.partial td, #lb-wrap .lb tr.empty td { color: var(--body-text-color-subdued, #777); }
#lb-wrap .lb .badge { font-size: 11px; border-radius: 4px; padding: 1px 5px; margin-left: 4px; font-style: normal;
  border: 1px solid currentColor; }
#lb-wrap .lb .flag { color: #b45309; }
#lb-wrap .lb-empty { padding: 12px; }
@media (max-width: 640px) {
  #lb-wrap .lb .wide { display: none; }
  #lb-wrap .lb td.model { max-width: 38vw; white-space: normal; overflow-wrap: anywhere; }
  #lb-wrap .lb .badge { display: inline-block; margin: 2px 0 0; }
  #lb-wrap .lb th, #lb-wrap .lb td { padding: 5px 4px; font-size: 13px; }
}
</style>
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def percent(value) -> str:
    """A fraction as a percentage with one decimal ("" when missing)."""
    return "" if value is None or pd.isna(value) else f"{100 * float(value):.1f}"


def params_text(params_b) -> str:
    """Parameters with sensible precision: "0.14M", "560M", "6.7B", "175B"."""
    if params_b is None or pd.isna(params_b):
        return ""
    b = float(params_b)
    if b < 1:
        m = b * 1000
        return f"{m:.2g}M" if m < 10 else f"{m:.0f}M"
    return f"{b:.2g}B" if b < 10 else f"{b:.0f}B"


def _model(row) -> str:
    url = row["hub_url"]
    label = _e(row["model"])
    cell = f'<a href="{_e(url)}" target="_blank" rel="noopener">{label}</a>' if isinstance(url, str) else label
    if row["status"] == "reference":
        cell += ' <span class="badge" title="A reference line (human performance or a translate-test baseline): ' \
                'shown for comparison, never ranked">reference</span>'
    if row["flag"]:
        cell += f' <span class="badge flag" title="{_e(row["flag"])}">⚠ {_e(row["flag"].split(" (")[0])}</span>'
    return cell


def _rank(row) -> str:
    if pd.notna(row["rank"]):
        return str(int(row["rank"]))
    if row["status"] == "reference":
        return '<span title="reference line: not ranked">ref</span>'
    if row["status"] == "partial":
        return f'<span title="covers {_e(row["coverage"])} of this benchmark set: no rank, no average">—</span>'
    return ""


def render(table: LeaderboardTable, columns: list[str] | None = None, merged: bool = False) -> str:
    shown = set(DEFAULT_SHOWN if columns is None else columns)
    tasks = table.headers if "per-task scores" in shown else []
    rank_tip = ("1 + the number of rows whose 95% interval lies entirely above this one; only rows covering "
                "every task of the set are ranked" + ("" if merged else ", each source apart"))
    cols = [("rank", "rank", rank_tip, "", _rank)]
    cols.append(("model", "model", "model; ⚠ marks a run that skipped tasks", "model", _model))
    spec = [
        ("source", "source", "evaluated here, reported in a paper or imported", "text", lambda r: _e(r["source"])),
        ("average", "average", "mean of the task scores over the whole set (only for rows covering all of it), %", "",
         lambda r: percent(r["average"])),
        ("95% CI", "95% CI", "95% interval of the average, %", "",
         lambda r: f"{percent(r['ci_low'])}–{percent(r['ci_high'])}" if pd.notna(r["ci_low"]) else ""),
        ("coverage", "coverage", "tasks of the set this row has results for", "", lambda r: _e(r["coverage"])),
    ]
    for key, label, tip, cls, fn in spec:
        if key in shown:
            cols.append((key, label, tip, cls, fn))
    for i, h in enumerate(tasks):
        cols.append((f"task{i}", h.name, h.tooltip, "", lambda r, t=h.task: percent(r.get(t))))
    tail = [
        ("languages", "languages", "languages with results, over the set's tasks", "", lambda r: str(r["n_languages"])),
        ("parity gap", "parity gap", "best minus worst language, averaged over the tasks, points", "",
         lambda r: percent(r["parity_gap"])),
        ("params", "params", "parameters", "", lambda r: params_text(r["params_b"])),
        ("size", "size", "size bucket", "text", lambda r: _e(r["size"])),
        ("revision", "revision", "model commit", "text", lambda r: _e((r["revision"] or "")[:12])),
        ("precision", "precision", "weights' precision", "text", lambda r: _e(r["precision"])),
        ("date", "date", "when the scores were computed", "text",
         lambda r: pd.to_datetime(r["date"], utc=True).strftime("%Y-%m-%d") if pd.notna(r["date"]) else ""),
    ]
    for key, label, tip, cls, fn in tail:
        if key in shown:
            cols.append((key, label, tip, cls, fn))

    def klass(key, cls):
        return " ".join(c for c in (cls, "" if key in NARROW_KEEP else "wide") if c)

    head = "".join(f'<th class="{klass(k, c)}" title="{_e(tip)}" data-col="{_e(k)}">{_e(label)}</th>'
                   for k, label, tip, c, _ in cols)
    body = []
    for r in table.rows.to_dict("records"):
        status = {"reference": "reference", "partial": "partial", "no results": "empty"}.get(r["status"], "ranked")
        cells = "".join(f'<td class="{klass(k, c)}">{fn(r)}</td>' for k, _, _, c, fn in cols)
        body.append(f'<tr class="{status}">{cells}</tr>')
    empty = "" if body else (f'<tr><td class="lb-empty text" colspan="{len(cols)}">{_e(table.summary())}</td></tr>')
    return (f'{CSS}<div id="lb-wrap"><table class="lb"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body) or empty}</tbody></table></div>')
