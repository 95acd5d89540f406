"""`suit run`: an envelope on an in-memory device described on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suitlib.cli.main import main
from suitlib.processor.report import decode_report
from tests.processor.support import INVOKE, VECTORS, build, install_of, payload, validate_of

FW = payload(2048, 210)
KEY = str(VECTORS / "public_key.pem")
DEVICE = ["--vendor-id", "dns:arm.com", "--class-id", "name:suit"]


def suit(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return int(exit_info.value.code or 0)


def test_update_then_boot_prints_actions_and_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "fw.suit"
    env.write_bytes(build(sequence_number=4, install=install_of("coap://fw", FW), validate=validate_of(FW), invoke=INVOKE))
    (tmp_path / "fw.bin").write_bytes(FW)
    report = tmp_path / "report.cbor"
    code = suit("run", str(env), "-k", KEY, *DEVICE, "-r", f"coap://fw={tmp_path / 'fw.bin'}", "--report", str(report))
    out = capsys.readouterr().out
    assert code == 0
    assert "update: ok" in out and "fetch coap://fw" in out and "write [00] (2048 bytes)" in out
    assert "store sequence number 4" in out and "invocation: ok" in out and "invoke [00]" in out
    assert decode_report(report.read_bytes())[4] is True


def test_example3_json_shows_the_slot_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f.bin").write_bytes(FW)
    code = suit("run", str(VECTORS / "example3-signed.cbor"), "-k", KEY, *DEVICE, "-c", "00@1",
                "-r", f"http://example.com/file1.bin={tmp_path / 'f.bin'}",
                "-r", f"http://example.com/file2.bin={tmp_path / 'f.bin'}", "--format", "json")
    runs = json.loads(capsys.readouterr().out)
    assert code == 1  # the example's digest is a placeholder: the real payload cannot match it
    assert runs[0]["fetched"] == ["http://example.com/file2.bin"]
    assert runs[0]["report"]["result"]["reason"] == "condition-failed"


def test_unsigned_is_refused_with_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = suit("run", str(VECTORS / "example0-unsigned.cbor"), "-k", KEY, *DEVICE)
    assert code == 1
    assert "not signed" in capsys.readouterr().err


def test_bad_device_description_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = suit("run", str(VECTORS / "example0-signed.cbor"), "-k", KEY, "--vendor-id", "nope", "--class-id", "x")
    assert code == 2
    assert "--vendor-id" in capsys.readouterr().err


def test_trace_shows_the_try_each_choice_and_the_failing_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f.bin").write_bytes(FW)
    code = suit("run", str(VECTORS / "example3-signed.cbor"), "-k", KEY, *DEVICE, "-c", "00@1",
                "-r", f"http://example.com/file2.bin={tmp_path / 'f.bin'}", "--procedure", "update", "--trace")
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    slot_lines = [line.strip() for line in out if "condition-component-slot" in line and line.strip().startswith("install")]
    assert slot_lines == ["install[1] component 0: condition-component-slot: failed: component is in slot 1, not 0",
                          "install[1] component 0: condition-component-slot: ok"]
    assert any("install[2] component 0: condition-image-match: failed" in line for line in out)
