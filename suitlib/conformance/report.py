"""Summaries (dict/JSON, text) and the HTML report with slot-by-step pictures."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from suitlib.conformance.runner import RunResult
from suitlib.conformance.scenarios import OMITTED

COLOURS = {"v1": "#4e79a7", "v2": "#59a14f", "erased": "#eeeeee", "data": "#bab0ac",
           "mixed": "#e15759"}
EXTRA = ["#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]


def summarize(results: Iterable[RunResult], bootloader: str, rejected: list[str]) -> dict[str, Any]:
    """The stdout summary: ``scenarios``, ``runs``, ``passed``, ``failed``, ``failures``."""
    runs = passed = 0
    scenarios: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    details: dict[str, list[str]] = {}
    for r in results:
        runs += 1
        row = scenarios.setdefault(r.scenario, {"runs": 0, "failed": 0})
        row["runs"] += 1
        if r.passed:
            passed += 1
        else:
            row["failed"] += 1
            failures.append(r.id)
            details[r.id] = r.violations
    return {
        "bootloader": bootloader,
        "scenarios": len(scenarios),
        "runs": runs,
        "passed": passed,
        "failed": runs - passed,
        "failures": failures,
        "violations": details,
        "per_scenario": scenarios,
        "rejected_configurations": rejected,
        "omitted": [{"number": o.number, "id": o.id, "reason": o.reason} for o in OMITTED],
    }


def format_text(summary: dict[str, Any], limit: int = 20) -> str:
    lines = [f"bootloader {summary['bootloader']}: {summary['scenarios']} scenarios, "
             f"{summary['runs']} runs, {summary['passed']} passed, {summary['failed']} failed"]
    for sid, row in sorted(summary["per_scenario"].items()):
        mark = "FAIL" if row["failed"] else "ok"
        lines.append(f"  {mark:4} {sid:24} {row['runs']:6} runs {row['failed']:5} failed")
    for rid in summary["failures"][:limit]:
        lines.append(f"  failure {rid}: {'; '.join(summary['violations'][rid][:2])}")
    if len(summary["failures"]) > limit:
        lines.append(f"  ... {len(summary['failures']) - limit} more failures (use --format json)")
    for r in summary["rejected_configurations"]:
        lines.append(f"  rejected at configuration: {r}")
    return "\n".join(lines)


def _colour(label: str, extra: dict[str, str]) -> str:
    if label in COLOURS:
        return COLOURS[label]
    if label not in extra:
        extra[label] = EXTRA[len(extra) % len(EXTRA)]
    return extra[label]


def _history(events: list[Any], name: str, i: int) -> tuple[str, ...]:
    """What sector ``i`` of area ``name`` held after each event."""
    out = []
    for e in events:
        cells = e.picture.get(name, [])
        out.append(cells[i] if i < len(cells) else "erased")
    return tuple(out)


def _collapsed_rows(events: list[Any]) -> list[tuple[str, str, int]]:
    """One row per run of neighbouring sectors whose whole history is the same.

    A 1 MiB part has hundreds of sectors, most of them never touched by a small test image;
    drawing each would bury the few that matter. Rows are ``(area, label, first sector)``,
    labelled ``area[i]`` or ``area[i..j]``.
    """
    rows: list[tuple[str, str, int]] = []
    for name, cells in events[0].picture.items():
        start = 0
        while start < len(cells):
            history = _history(events, name, start)
            end = start
            while end + 1 < len(cells) and _history(events, name, end + 1) == history:
                end += 1
            label = f"{name}[{start}]" if end == start else f"{name}[{start}..{end}]"
            rows.append((name, label, start))
            start = end + 1
    return rows


def slot_grid_svg(run: RunResult) -> str:
    """Areas' sectors (rows, identical neighbours merged) × events (columns), each cell coloured
    by what the sector holds."""
    events = [e for e in run.events if e.picture is not None]
    if not events:
        return "<p>(no pictures recorded)</p>"
    rows = _collapsed_rows(events)
    cw, ch = 22, 12
    left = 12 + 6 * max(len(label) for _, label, _ in rows)
    longest_event = max(len(f"{c}:{e.role[:3]} {e.label} {e.outcome}") for c, e in enumerate(events))
    top = 20 + int(5.3 * longest_event)  # a -60° label of n characters rises about 5.2 n px
    # rotated (-60°) event labels reach right of their column by about half their length
    width = left + cw * len(events) + 10 + int(3.2 * longest_event)
    height = top + ch * len(rows) + 40
    extra: dict[str, str] = {}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="10">']
    for c, e in enumerate(events):
        x = left + c * cw + cw // 2
        label = html.escape(f"{c}:{e.role[:3]} {e.label} {e.outcome}")
        out.append(f'<text transform="translate({x},{top - 6}) rotate(-60)">{label}</text>')
    for r, (name, label, i) in enumerate(rows):
        y = top + r * ch
        out.append(f'<text x="2" y="{y + ch - 2}">{html.escape(label)}</text>')
        for c, e in enumerate(events):
            cells = e.picture.get(name, [])  # type: ignore[union-attr]
            what = cells[i] if i < len(cells) else "erased"
            out.append(f'<rect x="{left + c * cw}" y="{y}" width="{cw - 1}" height="{ch - 1}" '
                       f'fill="{_colour(what, extra)}"><title>{html.escape(label)} after '
                       f'{html.escape(e.label)}: {html.escape(what)}</title></rect>')
    legend = dict(COLOURS, **extra)
    width_needed = left + 80 * len(legend) + 20
    y = top + ch * len(rows) + 14
    for n, (what, colour) in enumerate(legend.items()):
        out.append(f'<rect x="{left + n * 80}" y="{y}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{left + n * 80 + 14}" y="{y + 9}">{html.escape(what)}</text>')
    out.append("</svg>")
    if width_needed > width:  # the legend decides the width only once every cell is drawn
        out[0] = out[0].replace(f'width="{width}"', f'width="{width_needed}"', 1)
    return "\n".join(out)


def html_report(summary: dict[str, Any], replays: list[RunResult]) -> str:
    """A self-contained page: the summary table, then one picture per replayed failure."""
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>suit conformance</title>",
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px}"
             ".fail{color:#b00}</style></head><body>",
             f"<h1>Conformance of {esc(summary['bootloader'])}</h1>",
             f"<p>{summary['scenarios']} scenarios, {summary['runs']} runs, "
             f"{summary['passed']} passed, <b>{summary['failed']} failed</b>.</p>",
             "<table><tr><th>scenario</th><th>runs</th><th>failed</th></tr>"]
    for sid, row in sorted(summary["per_scenario"].items()):
        cls = " class='fail'" if row["failed"] else ""
        parts.append(f"<tr{cls}><td>{esc(sid)}</td><td>{row['runs']}</td><td>{row['failed']}</td></tr>")
    parts.append("</table><h2>Omitted scenarios</h2><ul>")
    for o in summary["omitted"]:
        parts.append(f"<li>{o['number']} {esc(o['id'])}: {esc(o['reason'])}</li>")
    parts.append("</ul>")
    for run in replays:
        parts.append(f"<h2 class='fail'>{esc(run.id)}</h2><ul>")
        parts.extend(f"<li>{esc(v)}</li>" for v in run.violations)
        parts.append("</ul><p>Each column is the flash after one step (setup, script, "
                     "recovery and settle boots); each row one sector of an area.</p>")
        parts.append(slot_grid_svg(run))
    parts.append("</body></html>")
    return "\n".join(parts)
