"""The real `suit` console script in a subprocess: exit codes, one-line errors, secrets off argv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".venv" / "bin" / "suit"


def suit_cmd() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "suitlib"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*suit_cmd(), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60)


def assert_one_line_error(proc: subprocess.CompletedProcess[str]) -> None:
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), proc.stderr


def test_manufacturer_flow_with_password_from_environment(tmp_path: Path, vectors_dir: Path) -> None:
    shutil.copy(vectors_dir / "example0-unsigned.cbor", tmp_path / "ex0.cbor")
    secret = {"FW_SIGNING_PW": "hunter2 but longer"}
    proc = run("keygen", "--type", "p256", "-o", "fw.pem", "--password-env", "FW_SIGNING_PW", cwd=tmp_path, env=secret)
    assert proc.returncode == 0, proc.stderr
    assert b"ENCRYPTED" in (tmp_path / "fw.pem").read_bytes()
    proc = run("sign", "ex0.cbor", "--key", "fw.pem", "--password-env", "FW_SIGNING_PW", "-o", "ex0.suit",
               cwd=tmp_path, env=secret)
    assert proc.returncode == 0, proc.stderr
    proc = run("verify", "ex0.suit", "--key", "fw.pub.pem", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("valid:")
    # without the variable the encrypted key cannot be used: one-line error, nothing written
    proc = run("sign", "ex0.cbor", "--key", "fw.pem", "-o", "nope.suit", cwd=tmp_path)
    assert proc.returncode == 2 and not (tmp_path / "nope.suit").exists()
    assert_one_line_error(proc)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["verify", "example0-signed.cbor", "--key", "wrong.pem"], 1),
        (["verify", "example0-unsigned.cbor", "--key", "public_key.pem"], 1),
        (["verify", "corrupt.cbor", "--key", "public_key.pem"], 2),
        (["inspect", "missing.cbor"], 2),
        (["sign", "example0-unsigned.cbor", "--key", "public_key.pem", "-o", "out.suit"], 2),
    ],
)
def test_rejections_and_bad_inputs(tmp_path: Path, vectors_dir: Path, args: list[str], code: int) -> None:
    for name in ("example0-signed.cbor", "example0-unsigned.cbor", "public_key.pem"):
        shutil.copy(vectors_dir / name, tmp_path / name)
    (tmp_path / "corrupt.cbor").write_bytes(b"\xd8\x6b\xa1")
    (tmp_path / "wrong.pem").write_bytes(
        b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEQbDQrdgTMD0K+q/ohtKJumqapdJ\n"
        b"XdkjcU2IzmN/NtaQEiFZDLQnCIaxk5Ba+cX0XKEFp1uMvQ9jxEZrVx+2+g==\n-----END PUBLIC KEY-----\n")
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    assert_one_line_error(proc)
    assert not (tmp_path / "out.suit").exists()


def test_python_dash_m_lists_the_verbs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "suitlib", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    for verb in ("keygen", "pubkey", "create", "sign", "verify", "inspect", "sever"):
        assert verb in proc.stdout
