"""The HTML report's slot picture: neighbouring sectors with the same history share a row."""

from __future__ import annotations

import re
from types import SimpleNamespace

from suitlib.conformance.report import _collapsed_rows, slot_grid_svg


def event(label: str, picture: dict[str, list[str]]) -> SimpleNamespace:
    return SimpleNamespace(picture=picture, role="setup", label=label, outcome="ok")


def test_identical_neighbours_share_a_row_and_every_sector_is_drawn_once() -> None:
    events = [
        event("boot", {"primary": ["v1", "v1", "erased", "erased", "erased"], "scratch": ["erased"]}),
        event("swap", {"primary": ["v2", "v1", "erased", "erased", "v2"], "scratch": ["v1"]}),
    ]
    rows = _collapsed_rows(events)
    assert [label for _, label, _ in rows] == [
        "primary[0]", "primary[1]", "primary[2..3]", "primary[4]", "scratch[0]"]


def test_the_svg_has_one_row_label_per_run_and_names_every_step() -> None:
    events = [event(f"step{i}", {"primary": ["v1"] * 100 + ["erased"] * 20}) for i in range(3)]
    svg = slot_grid_svg(SimpleNamespace(events=events))
    labels = re.findall(r"<text x=\"2\"[^>]*>([^<]*)</text>", svg)
    assert labels == ["primary[0..99]", "primary[100..119]"]
    assert all(f"step{i}" in svg for i in range(3))
