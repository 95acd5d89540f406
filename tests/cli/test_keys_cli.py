"""`suit keygen` and `suit pubkey`."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import cbor2
import pytest
from Crypto.PublicKey import RSA

from suitlib.cose import KeyType, PrivateKey, import_cose_key, load_private_pem, load_public_pem
from tests.cli.conftest import leftovers


@pytest.mark.parametrize("key_type", ["p256", "ed25519"])
def test_keygen_writes_private_0600_and_public_beside(suit, tmp_path: Path, key_type: str) -> None:
    r = suit("keygen", "--type", key_type, "-o", "dev.pem")
    assert r.code == 0, r.err
    private, public = tmp_path / "dev.pem", tmp_path / "dev.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = load_private_pem(private.read_bytes())
    assert key.key_type is KeyType(key_type)
    assert load_public_pem(public.read_bytes()) == key.public_key()
    assert r.out == ""  # logs go to stderr


def test_keygen_refuses_to_overwrite(suit, tmp_path: Path) -> None:
    assert suit("keygen", "-o", "k.pem").code == 0
    before = (tmp_path / "k.pem").read_bytes()
    r = suit("keygen", "-o", "k.pem")
    assert r.code == 2 and "exists" in r.one_line_error()
    assert (tmp_path / "k.pem").read_bytes() == before
    assert suit("keygen", "-o", "k.pem", "--force").code == 0
    assert (tmp_path / "k.pem").read_bytes() != before


def test_keygen_password_from_env_and_file(suit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUIT_KEY_PW", "s3cret pass")
    assert suit("keygen", "-o", "enc.pem", "--password-env", "SUIT_KEY_PW").code == 0
    pem = (tmp_path / "enc.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") and b"s3cret" not in pem
    assert load_private_pem(pem, password=b"s3cret pass").public_key() == load_public_pem(
        (tmp_path / "enc.pub.pem").read_bytes())
    # the same password from a file (a trailing newline is not part of it)
    (tmp_path / "pw.txt").write_text("s3cret pass\n")
    r = suit("pubkey", "enc.pem", "--password-file", "pw.txt", "-o", "out.pem")
    assert r.code == 0, r.err
    assert (tmp_path / "out.pem").read_bytes() == (tmp_path / "enc.pub.pem").read_bytes()
    # wrong or missing password: a key-format error, exit 2
    monkeypatch.setenv("SUIT_KEY_PW", "wrong")
    r = suit("pubkey", "enc.pem", "--password-env", "SUIT_KEY_PW")
    assert r.code == 2 and "wrong password" in r.one_line_error()
    r = suit("pubkey", "enc.pem")
    assert r.code == 2 and "no password" in r.one_line_error()


def test_keygen_with_unset_password_variable_writes_nothing(suit, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("NOPE_PW", raising=False)
    r = suit("keygen", "-o", "k.pem", "--password-env", "NOPE_PW")
    assert r.code == 2 and "NOPE_PW" in r.one_line_error()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_no_password_option_takes_the_secret_itself(suit) -> None:
    r = suit("keygen", "--help")
    assert "--password-env VAR" in r.out and "--password-file FILE" in r.out
    assert "--password " not in r.out and "--password=" not in r.out


def test_pubkey_formats(suit, tmp_path: Path) -> None:
    assert suit("keygen", "-o", "k.pem").code == 0
    key = load_private_pem((tmp_path / "k.pem").read_bytes())
    r = suit("pubkey", "k.pem")
    assert r.code == 0 and r.out.encode() == (tmp_path / "k.pub.pem").read_bytes()
    assert suit("pubkey", "k.pem", "--format", "cose-key", "--kid", "dev-1", "-o", "k.cose").code == 0
    cose, kid, _ = import_cose_key((tmp_path / "k.cose").read_bytes())
    assert cose == key.public_key() and kid == b"dev-1"
    assert -4 not in cbor2.loads((tmp_path / "k.cose").read_bytes())  # no private part
    r = suit("pubkey", "k.pub.pem", "--format", "c-array", "--name", "boot_key")
    assert r.code == 0
    raw = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", r.out))
    assert raw == key.public_key().raw and "boot_key[65]" in r.out
    # the COSE_Key is itself a key file the CLI reads back
    r = suit("pubkey", "k.cose")
    assert r.code == 0 and r.out.encode() == (tmp_path / "k.pub.pem").read_bytes()


def test_pubkey_bad_inputs(suit, tmp_path: Path) -> None:
    r = suit("pubkey", "missing.pem")
    assert r.code == 2 and "not found" in r.one_line_error()
    (tmp_path / "rsa.pem").write_bytes(RSA.generate(1024).export_key())
    r = suit("pubkey", "rsa.pem", "-o", "out.pem")
    assert r.code == 2 and "RSA" in r.one_line_error()
    (tmp_path / "junk.bin").write_bytes(b"\x00\x01garbage")
    r = suit("pubkey", "junk.bin", "-o", "out.pem")
    assert r.code == 2 and "neither PEM nor a COSE_Key" in r.one_line_error()
    assert not (tmp_path / "out.pem").exists() and leftovers(tmp_path) == []


def test_ed25519_c_array(suit, tmp_path: Path) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    (tmp_path / "ed.pem").write_bytes(key.to_pem())
    r = suit("pubkey", "ed.pem", "--format", "c-array")
    raw = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", r.out))
    assert r.code == 0 and raw == key.public_key().raw and len(raw) == 32
