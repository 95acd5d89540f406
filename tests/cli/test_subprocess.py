"""The real `suit` console script in a subprocess: exit codes, one-line errors, secrets off argv."""

from __future__ import annotations

import os
import shutil
import json
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


def test_every_verb_succeeds_through_the_console_script(tmp_path: Path, vectors_dir: Path) -> None:
    """keygen, pubkey, create, sign, verify, inspect, sever: each one's success path, as a shell runs it."""
    for name in ("example2-signed.cbor", "example2-severed-signed.cbor", "public_key.pem"):
        shutil.copy(vectors_dir / name, tmp_path / name)
    shutil.copy(REPO / "tests" / "codec" / "specs" / "example0.yaml", tmp_path / "ex0.yaml")

    assert run("keygen", "--type", "ed25519", "-o", "k.pem", cwd=tmp_path).returncode == 0
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0

    proc = run("pubkey", "k.pem", "--format", "c-array", cwd=tmp_path)
    assert proc.returncode == 0 and "const unsigned char suit_public_key[32]" in proc.stdout

    assert run("create", "ex0.yaml", "-o", "ex0.cbor", cwd=tmp_path).returncode == 0
    assert (tmp_path / "ex0.cbor").read_bytes() == (vectors_dir / "example0-unsigned.cbor").read_bytes()

    assert run("sign", "ex0.cbor", "--key", "k.pem", "-o", "ex0.suit", cwd=tmp_path).returncode == 0
    proc = run("verify", "ex0.suit", "--key", "k.pub.pem", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("valid:")

    proc = run("inspect", "ex0.suit", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["suit-manifest"]["suit-manifest-sequence-number"] == 0

    proc = run("sever", "example2-signed.cbor", "--all", "-o", "severed.suit", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "severed.suit").read_bytes() == (tmp_path / "example2-severed-signed.cbor").read_bytes()
    assert run("verify", "severed.suit", "--key", "public_key.pem", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["keygen", "--type", "rsa", "-o", "out.suit"],
        ["pubkey", "missing.pem", "-o", "out.suit"],
        ["create", "broken.yaml", "-o", "out.suit"],
        ["sever", "corrupt.cbor", "--all", "-o", "out.suit"],
    ],
)
def test_more_bad_inputs_give_one_line_errors(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "corrupt.cbor").write_bytes(b"\xd8\x6b\xa2\x02")
    (tmp_path / "broken.yaml").write_text("suit-manifest: [unclosed\n")
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert_one_line_error(proc)
    assert not (tmp_path / "out.suit").exists()
