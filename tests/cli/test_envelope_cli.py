"""`suit create`, `sign`, `verify`, `inspect`, `sever`: success paths, exit codes, bad inputs, atomic output."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import ecdsa
import pytest
from ecdsa.util import sigencode_der, sigencode_string

from suitlib.cose import KeyType, PrivateKey, load_public_pem
from suitlib.manifest import decode_envelope
from suitlib.manifest.auth import verify_envelope
from tests.cli.conftest import leftovers

VECTOR_NAMES = ["example0-unsigned.cbor", "example1-signed.cbor", "example2-signed.cbor",
                "example2-severed-signed.cbor", "example3-signed.cbor", "example4-unsigned.cbor",
                "example5-signed.cbor"]


@pytest.fixture
def work(tmp_path: Path, vectors_dir: Path) -> Path:
    for name in ("example0-unsigned.cbor", "example0-signed.cbor", "example2-signed.cbor",
                 "public_key.pem", "private_key.pem"):
        shutil.copy(vectors_dir / name, tmp_path / name)
    (tmp_path / "corrupt.cbor").write_bytes(b"\xd8\x6b\xa2\x02\x58\xff")
    (tmp_path / "other.pem").write_bytes(PrivateKey.generate(KeyType.P256).public_key().to_pem())
    return tmp_path


# --- create / inspect ------------------------------------------------------------------------


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_inspect_json_then_create_round_trips(suit, work: Path, vectors_dir: Path, name: str) -> None:
    r = suit("inspect", vectors_dir / name, "--format", "json", "-o", "spec.json")
    assert r.code == 0, r.err
    json.loads((work / "spec.json").read_text())
    r = suit("create", "spec.json", "-o", "rebuilt.cbor")
    assert r.code == 0, r.err
    assert (work / "rebuilt.cbor").read_bytes() == (vectors_dir / name).read_bytes()


def test_create_from_yaml_with_file_references(suit, work: Path, corpus_dir: Path) -> None:
    image = (corpus_dir / "mbed-blinky-k64f" / "new.bin").read_bytes()
    (work / "fw.bin").write_bytes(image)
    (work / "spec.yaml").write_text(
        "suit-manifest:\n"
        "  suit-manifest-version: 1\n"
        "  suit-manifest-sequence-number: 7\n"
        "  suit-common:\n"
        "    suit-components: [[\"00\"]]\n"
        "    suit-shared-sequence:\n"
        "      - suit-directive-override-parameters:\n"
        "          suit-parameter-image-digest: {file: fw.bin}\n"
        "          suit-parameter-image-size: {file: fw.bin}\n"
        "  suit-validate:\n"
        "    - suit-condition-image-match: 15\n"
    )
    r = suit("create", "spec.yaml", "-o", "fw.suit")
    assert r.code == 0, r.err
    env = decode_envelope((work / "fw.suit").read_bytes())
    params = env.manifest.common.shared_sequence[0].argument
    assert params[3].value == hashlib.sha256(image).digest() and params[14] == len(image)
    assert env.manifest.sequence_number == 7 and not env.signed


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("suit-manifest: [unclosed\n", "not valid YAML"),
        ("nonsense: 1\n", "unknown top-level"),
        ("suit-manifest:\n  suit-manifest-sequence-number: 1\n  suit-common:\n    suit-components: [[\"00\"]]\n"
         "    suit-shared-sequence:\n      - suit-directive-override-parameters:\n"
         "          suit-parameter-image-size: {file: missing.bin}\n", "missing.bin"),
    ],
)
def test_create_bad_spec_leaves_no_output(suit, work: Path, content: str, message: str) -> None:
    (work / "bad.yaml").write_text(content)
    r = suit("create", "bad.yaml", "-o", "out.suit")
    assert r.code == 2 and message in r.one_line_error()
    assert not (work / "out.suit").exists() and leftovers(work) == []


def test_create_missing_spec(suit, work: Path) -> None:
    r = suit("create", "nope.yaml", "-o", "out.suit")
    assert r.code == 2 and "not found" in r.one_line_error()


def test_inspect_text_and_diag(suit, work: Path) -> None:
    r = suit("inspect", "example2-signed.cbor")
    assert r.code == 0 and "sequence number 2" in r.out and "(matches)" in r.out
    r = suit("inspect", "example0-signed.cbor", "--format", "diag")
    assert r.code == 0 and r.out.startswith("107(") and "/ authentication-wrapper / 2:" in r.out
    r = suit("inspect", "corrupt.cbor", "-o", "x.txt")
    assert r.code == 2 and r.one_line_error().startswith("error: ")
    assert not (work / "x.txt").exists()
    r = suit("inspect", "missing.cbor")
    assert r.code == 2 and "not found" in r.one_line_error()


# --- sign / verify ---------------------------------------------------------------------------


@pytest.mark.parametrize("key_type,alg", [("p256", "ES256"), ("p256", "ESP256"), ("ed25519", "EdDSA"),
                                          ("ed25519", "Ed25519")])
def test_sign_then_verify(suit, work: Path, key_type: str, alg: str) -> None:
    assert suit("keygen", "--type", key_type, "-o", "k.pem").code == 0
    r = suit("sign", "example0-unsigned.cbor", "--key", "k.pem", "--alg", alg, "--kid", "dev", "-o", "s.suit")
    assert r.code == 0, r.err
    public = load_public_pem((work / "k.pub.pem").read_bytes())
    (v,) = verify_envelope(decode_envelope((work / "s.suit").read_bytes()), [public])
    assert v.alg.cose_name == alg and v.kid == b"dev"
    r = suit("verify", "s.suit", "--key", "other.pem", "--key", "k.pub.pem")
    assert r.code == 0 and r.out.startswith("valid:") and alg in r.out
    r = suit("verify", "s.suit", "--key", "other.pem")
    assert r.code == 1 and "no authentication block verifies" in r.one_line_error()


def test_sign_is_deterministic_for_p256(suit, work: Path) -> None:
    for out in ("a.suit", "b.suit"):
        assert suit("sign", "example0-unsigned.cbor", "--key", "private_key.pem", "-o", out).code == 0
    assert (work / "a.suit").read_bytes() == (work / "b.suit").read_bytes()
    assert len((work / "a.suit").read_bytes()) == len((work / "example0-signed.cbor").read_bytes())


def test_sign_modes_and_refusals(suit, work: Path) -> None:
    assert suit("keygen", "--type", "ed25519", "-o", "ed.pem").code == 0
    r = suit("sign", "example0-signed.cbor", "--key", "ed.pem", "-o", "x.suit")
    assert r.code == 2 and "--append" in r.err and not (work / "x.suit").exists()
    assert suit("sign", "example0-signed.cbor", "--key", "ed.pem", "--append", "-o", "two.suit").code == 0
    r = suit("verify", "two.suit", "--key", "public_key.pem", "--key", "ed.pub.pem", "--threshold", "2")
    assert r.code == 0, r.err
    assert suit("sign", "example0-signed.cbor", "--key", "ed.pem", "--replace", "-o", "one.suit").code == 0
    assert suit("verify", "one.suit", "--key", "public_key.pem").code == 1
    assert suit("verify", "one.suit", "--key", "ed.pub.pem").code == 0
    r = suit("sign", "example0-signed.cbor", "--key", "ed.pem", "--append", "--replace", "-o", "x.suit")
    assert r.code == 2 and not (work / "x.suit").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["corrupt.cbor", "--key", "private_key.pem"], "not a well-formed SUIT envelope"),
        (["missing.cbor", "--key", "private_key.pem"], "not found"),
        (["example0-unsigned.cbor", "--key", "public_key.pem"], "public key"),
        (["example0-unsigned.cbor", "--key", "nokey.pem"], "not found"),
        (["example0-unsigned.cbor", "--key", "private_key.pem", "--alg", "EdDSA"], "cannot be used with EdDSA"),
        (["example0-unsigned.cbor", "--key", "example0-signed.cbor"], "neither PEM nor a COSE_Key"),
    ],
)
def test_sign_bad_inputs(suit, work: Path, args: list[str], message: str) -> None:
    r = suit("sign", *args, "-o", "out.suit")
    assert r.code == 2 and r.one_line_error() and message in r.err
    assert not (work / "out.suit").exists() and leftovers(work) == []


def test_external_signing_in_two_steps(suit, work: Path) -> None:
    sk = ecdsa.SigningKey.generate(curve=ecdsa.NIST256p)
    (work / "hsm.pub.pem").write_bytes(sk.get_verifying_key().to_pem())
    r = suit("sign", "example0-unsigned.cbor", "--emit-tbs", "tbs.bin", "--alg", "ESP256", "--kid", "hsm")
    assert r.code == 0, r.err
    tbs = (work / "tbs.bin").read_bytes()
    assert tbs.startswith(bytes.fromhex("846a5369676e61747572653143a10128"))  # ["Signature1", <<{1: -9}>>
    for encoding, name in ((sigencode_string, "raw.sig"), (sigencode_der, "der.sig")):
        (work / name).write_bytes(sk.sign(tbs, hashfunc=hashlib.sha256, sigencode=encoding))
        r = suit("sign", "example0-unsigned.cbor", "--signature", name, "--key", "hsm.pub.pem",
                 "--alg", "ESP256", "--kid", "hsm", "-o", f"{name}.suit")
        assert r.code == 0, r.err
        r = suit("verify", f"{name}.suit", "--key", "hsm.pub.pem", "--format", "json")
        report = json.loads(r.out)
        assert r.code == 0 and report["signers"][0]["alg"] == "ESP256" and report["signers"][0]["kid"] == b"hsm".hex()
    # a signature over other bytes, or checked against the wrong key: refused, nothing written
    (work / "bad.sig").write_bytes(sk.sign(b"other", hashfunc=hashlib.sha256, sigencode=sigencode_string))
    r = suit("sign", "example0-unsigned.cbor", "--signature", "bad.sig", "--key", "hsm.pub.pem",
             "--alg", "ESP256", "--kid", "hsm", "-o", "bad.suit")
    assert r.code == 1 and "does not verify" in r.one_line_error() and not (work / "bad.suit").exists()
    r = suit("sign", "example0-unsigned.cbor", "--signature", "raw.sig", "--key", "other.pem",
             "--alg", "ESP256", "--kid", "hsm", "-o", "bad.suit")
    assert r.code == 1 and not (work / "bad.suit").exists()


def test_verify_exit_codes(suit, work: Path) -> None:
    assert suit("verify", "example0-signed.cbor", "--key", "public_key.pem").code == 0
    assert suit("verify", "example2-signed.cbor", "--key", "public_key.pem").code == 0
    # rejected: wrong key, unsigned, digest mismatch
    assert suit("verify", "example0-signed.cbor", "--key", "other.pem").code == 1
    r = suit("verify", "example0-unsigned.cbor", "--key", "public_key.pem")
    assert r.code == 1 and "not signed" in r.one_line_error()
    r = suit("verify", "example0-unsigned.cbor", "--allow-unsigned")
    assert r.code == 0 and "unsigned" in r.out
    data = bytearray((work / "example0-signed.cbor").read_bytes())
    data[-1] ^= 0x01  # last byte of the manifest (the invoke policy)
    (work / "tampered.cbor").write_bytes(bytes(data))
    r = suit("verify", "tampered.cbor", "--key", "public_key.pem")
    assert r.code == 1 and "digest" in r.one_line_error()
    # bad input: corrupt, missing, not an envelope, wrong key type, no key
    assert suit("verify", "corrupt.cbor", "--key", "public_key.pem").code == 2
    assert suit("verify", "missing.cbor", "--key", "public_key.pem").code == 2
    assert suit("verify", "public_key.pem", "--key", "public_key.pem").code == 2
    (work / "p384.pem").write_bytes(
        b"-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEtm6Dr0jhcBbjMpN8fZxfuyb2eU7IZhRo\n"
        b"Rlti7iHj3HsJ/ZK4a7OVxl0/KtJ8OY8SlGkB5AWPXgNbqZyuyAg1ZN8f0ou4WGr+\n"
        b"mGWXcNNzm2UsLkYZeqFJ5x7dFDUS+LRu\n-----END PUBLIC KEY-----\n")
    r = suit("verify", "example0-signed.cbor", "--key", "p384.pem")
    assert r.code == 2 and r.one_line_error().startswith("error: ")
    r = suit("verify", "example0-signed.cbor")
    assert r.code == 2 and "no trusted key" in r.one_line_error()


# --- sever -----------------------------------------------------------------------------------


def test_sever(suit, work: Path, vectors_dir: Path) -> None:
    r = suit("sever", "example2-signed.cbor", "-o", "severed.cbor")
    assert r.code == 0, r.err
    assert (work / "severed.cbor").read_bytes() == (vectors_dir / "example2-severed-signed.cbor").read_bytes()
    assert suit("verify", "severed.cbor", "--key", "public_key.pem").code == 0
    r = suit("sever", "example2-signed.cbor", "--element", "text", "-o", "no-text.cbor")
    assert r.code == 0
    env = decode_envelope((work / "no-text.cbor").read_bytes())
    assert sorted(env.elements) == [20]
    assert suit("verify", "no-text.cbor", "--key", "public_key.pem").code == 0


def test_sever_of_inline_members_drops_signatures_with_a_warning(suit, work: Path, vectors_dir: Path) -> None:
    shutil.copy(vectors_dir / "example1-signed.cbor", work / "ex1.cbor")  # install is inline
    r = suit("sever", "ex1.cbor", "--element", "install", "-o", "severed.cbor")
    assert r.code == 0 and "sign the result again" in r.err
    env = decode_envelope((work / "severed.cbor").read_bytes())
    assert not env.signed and env.manifest.install is not None and not env.elements
    r = suit("verify", "severed.cbor", "--key", "public_key.pem")
    assert r.code == 1 and "not signed" in r.one_line_error()
    assert suit("sign", "severed.cbor", "--key", "private_key.pem", "-o", "resigned.cbor").code == 0
    assert suit("verify", "resigned.cbor", "--key", "public_key.pem").code == 0


def test_sever_bad_inputs(suit, work: Path) -> None:
    r = suit("sever", "example2-signed.cbor", "--element", "bogus", "-o", "out.cbor")
    assert r.code == 2 and r.one_line_error()
    r = suit("sever", "corrupt.cbor", "-o", "out.cbor")
    assert r.code == 2 and r.one_line_error()
    r = suit("sever", "missing.cbor", "-o", "out.cbor")
    assert r.code == 2 and "not found" in r.one_line_error()
    assert not (work / "out.cbor").exists() and leftovers(work) == []


def test_mac0_with_a_symmetric_cose_key(suit, work: Path) -> None:
    from suitlib.cose import SymmetricKey, export_cose_key

    (work / "device.cose").write_bytes(export_cose_key(SymmetricKey(bytes(range(32))), kid=b"dev-7"))
    (work / "other.cose").write_bytes(export_cose_key(SymmetricKey(bytes(32))))
    r = suit("sign", "example0-unsigned.cbor", "--key", "device.cose", "-o", "mac.suit")
    assert r.code == 0, r.err
    r = suit("verify", "mac.suit", "--key", "device.cose")
    assert r.code == 0 and "HMAC-256/256" in r.out and "dev-7" in r.out
    assert suit("verify", "mac.suit", "--key", "other.cose").code == 1
    r = suit("sign", "example0-unsigned.cbor", "--key", "device.cose", "--alg", "ES256", "-o", "x.suit")
    assert r.code == 2 and not (work / "x.suit").exists()
    r = suit("pubkey", "device.cose")
    assert r.code == 2 and "symmetric" in r.one_line_error()


def test_oversized_envelope_is_refused_before_decoding(suit, work: Path) -> None:
    from suitlib.limits import DEFAULT_LIMITS

    (work / "huge.cbor").write_bytes(b"\x00" * (DEFAULT_LIMITS.max_envelope_size + 1))
    r = suit("verify", "huge.cbor", "--key", "public_key.pem")
    assert r.code == 2 and "too large" in r.err
