"""`suit conformance`: summary on stdout, exit codes, replay, HTML report with pictures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suitlib.cli.main import main

BROKEN = "tests.conformance.broken:trailer_before_data"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["-q", "conformance", *args])
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_reference_passes_and_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--profile", "nrf52832", "--scenario", "perm-upgrade",
                        "--schedule", "cut", "--max-points", "5", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["scenarios"] == 1 and doc["runs"] == 5 and doc["passed"] == 5
    assert doc["failed"] == 0 and doc["failures"] == []


def test_broken_fails_replays_and_draws(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    code, out, _ = _run(capsys, "--bootloader", BROKEN, "--profile", "tiny", "--scenario",
                        "perm-upgrade", "--schedule", "cut", "--format", "json",
                        "--report", str(report))
    doc = json.loads(out)
    assert code == 1 and doc["failed"] == len(doc["failures"]) > 0
    rid = doc["failures"][0]
    assert rid.startswith("perm-upgrade:tiny:cut=")
    page = report.read_text()
    assert "<svg" in page and page.count("<rect") > 50 and rid in page
    code, out, _ = _run(capsys, "--bootloader", BROKEN, "--replay", rid)
    assert code == 1
    assert f"replay {rid}: FAIL" in out and "violation: I" in out and "primary" in out


def test_bad_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--replay", "nonsense")
    assert code == 2 and "error:" in err
    code, _, err = _run(capsys, "--profile", "no-such-part")
    assert code == 2 and "unknown profile" in err
    code, _, err = _run(capsys, "--bootloader", "no.such.module:factory")
    assert code == 2
