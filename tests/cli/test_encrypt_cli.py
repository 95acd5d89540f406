"""`suit encrypt` (and `suit encrypt --decrypt`): round-trips, draft examples, typed refusals."""

from __future__ import annotations

import json
from pathlib import Path

import cbor2
import pytest
from Crypto.PublicKey import ECC

from suitlib.cose.encrypt import KeyWrapKey, decode_encryption_info, decrypt_payload
from suitlib.cose.keys import KeyType, PrivateKey
from tests.cli.conftest import leftovers

FW = bytes((i * 31 + 7) % 256 for i in range(10_000))
EXAMPLES = json.loads((Path(__file__).parents[1] / "cose" / "vectors" / "fe" / "examples.json").read_text())


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "fw.bin").write_bytes(FW)
    (tmp_path / "kek128.bin").write_bytes(bytes(range(16)))
    (tmp_path / "kek256.hex").write_text(bytes(range(32)).hex() + "\n")
    device = PrivateKey.generate(KeyType.P256)
    (tmp_path / "dev.pem").write_bytes(device.to_pem())
    (tmp_path / "dev.pub.pem").write_bytes(device.public_key().to_pem())
    (tmp_path / "dev-locked.pem").write_bytes(device.to_pem(b"pw", iterations=1000))
    (tmp_path / "other.pem").write_bytes(PrivateKey.generate(KeyType.P256).to_pem())
    return {p.name: p for p in tmp_path.iterdir()}


ROUND_TRIPS = [
    ("kek128.bin", "kek128.bin", "A128KW"),
    ("kek256.hex", "kek256.hex", "A256KW"),
    ("dev.pub.pem", "dev.pem", "ECDH-ES+A128KW"),
]


@pytest.mark.parametrize(("sender", "device", "alg"), ROUND_TRIPS)
@pytest.mark.parametrize("content", ["A128GCM", "A128CTR"])
def test_round_trip(suit, files, tmp_path: Path, sender: str, device: str, alg: str, content: str) -> None:
    r = suit("encrypt", "fw.bin", "--recipient-key", sender, "--alg", alg, "--content-alg", content,
             "--kid", "dev-1", "-o", "fw.enc", "--info-out", "fw.encinfo")
    assert r.code == 0, r.err
    assert r.out == ""  # logs on stderr
    ciphertext = (tmp_path / "fw.enc").read_bytes()
    info = decode_encryption_info((tmp_path / "fw.encinfo").read_bytes())
    assert info.alg.cose_name == content and info.recipients[0].alg.cose_name == alg
    assert info.recipients[0].kid == b"dev-1"
    assert FW[:64] not in ciphertext and len(ciphertext) == len(FW) + (16 if content == "A128GCM" else 0)
    r = suit("encrypt", "--decrypt", "fw.enc", "--info", "fw.encinfo", "--recipient-key", device, "-o", "fw.out")
    assert r.code == 0, r.err
    assert (tmp_path / "fw.out").read_bytes() == FW
    assert ("no integrity" in r.err) == (content == "A128CTR")
    assert leftovers(tmp_path) == []


def test_secret_from_environment(suit, files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUIT_KEK", bytes(range(16)).hex())
    assert suit("encrypt", "fw.bin", "--recipient-key-env", "SUIT_KEK", "-o", "c", "--info-out", "i").code == 0
    plaintext = decrypt_payload((tmp_path / "c").read_bytes(), (tmp_path / "i").read_bytes(),
                                [KeyWrapKey(bytes(range(16)))])
    assert plaintext == FW
    assert suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key-env", "SUIT_KEK", "-o", "p").code == 0
    assert (tmp_path / "p").read_bytes() == FW
    r = suit("encrypt", "fw.bin", "--recipient-key-env", "UNSET_VAR_X", "-o", "c2", "--info-out", "i2")
    assert r.code == 2 and "UNSET_VAR_X" in r.one_line_error()


def test_several_recipients(suit, files, tmp_path: Path) -> None:
    r = suit("encrypt", "fw.bin", "--recipient-key", "kek128.bin", "--recipient-key", "dev.pub.pem",
             "-o", "c", "--info-out", "i")
    assert r.code == 0, r.err
    for key in ("kek128.bin", "dev.pem"):
        assert suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key", key, "-o", "p").code == 0
        assert (tmp_path / "p").read_bytes() == FW


def test_encrypted_private_key_with_password(suit, files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert suit("encrypt", "fw.bin", "--recipient-key", "dev.pub.pem", "-o", "c", "--info-out", "i").code == 0
    r = suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key", "dev-locked.pem", "-o", "p")
    assert r.code == 2 and "password" in r.one_line_error()
    monkeypatch.setenv("PW", "pw")
    r = suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key", "dev-locked.pem", "--password-env", "PW",
             "-o", "p")
    assert r.code == 0, r.err and (tmp_path / "p").read_bytes() == FW


@pytest.mark.parametrize(("sender", "wrong"), [("kek128.bin", "kek256.hex"), ("dev.pub.pem", "other.pem")])
def test_wrong_key_is_refused_and_writes_nothing(suit, files, tmp_path: Path, sender: str, wrong: str) -> None:
    assert suit("encrypt", "fw.bin", "--recipient-key", sender, "-o", "c", "--info-out", "i").code == 0
    if wrong == "kek256.hex":  # same size class needed for the recipient to be tried
        (tmp_path / "wrong.bin").write_bytes(bytes(16))
        wrong = "wrong.bin"
    r = suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key", wrong, "-o", "p")
    assert r.code == 1 and "unwrap" in r.one_line_error()
    assert not (tmp_path / "p").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("what", ["ciphertext", "tag", "info"])
def test_modified_input_is_refused_and_writes_nothing(suit, files, tmp_path: Path, what: str) -> None:
    assert suit("encrypt", "fw.bin", "--recipient-key", "kek128.bin", "-o", "c", "--info-out", "i").code == 0
    c, i = tmp_path / "c", tmp_path / "i"
    if what == "info":
        tag = cbor2.loads(i.read_bytes())
        unprot = dict(tag.value[1])
        unprot[5] = bytes(12)
        i.write_bytes(cbor2.dumps(cbor2.CBORTag(96, [tag.value[0], unprot, None, tag.value[3]]), canonical=True))
    else:
        data = bytearray(c.read_bytes())
        data[-1 if what == "tag" else 100] ^= 1
        c.write_bytes(bytes(data))
    r = suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key", "kek128.bin", "-o", "p")
    assert r.code == 1 and "tag does not verify" in r.one_line_error()
    assert not (tmp_path / "p").exists()


def test_usage_errors(suit, files, tmp_path: Path) -> None:
    cases = [
        (["encrypt", "fw.bin", "-o", "c", "--info-out", "i"], "no recipient key"),
        (["encrypt", "fw.bin", "--recipient-key", "kek128.bin", "-o", "c"], "--info-out"),
        (["encrypt", "fw.bin", "--recipient-key", "kek128.bin", "--alg", "A256KW", "-o", "c", "--info-out", "i"],
         "does not fit"),
        (["encrypt", "fw.bin", "--recipient-key", "fw.bin", "-o", "c", "--info-out", "i"], "key-encryption key"),
        (["encrypt", "--decrypt", "fw.bin", "--recipient-key", "kek128.bin", "-o", "p"], "--info"),
        (["encrypt", "--decrypt", "fw.bin", "--info", "fw.bin", "--recipient-key", "dev.pub.pem", "-o", "p"],
         "public key"),
        (["encrypt", "--decrypt", "fw.bin", "--info", "fw.bin", "--recipient-key", "kek128.bin", "-o", "p"],
         "encryption-info"),
        (["encrypt", "missing.bin", "--recipient-key", "kek128.bin", "-o", "c", "--info-out", "i"], "not found"),
    ]
    for args, text in cases:
        r = suit(*args)
        assert r.code == 2, (args, r.err)
        assert text in r.one_line_error(), (args, r.err)
    assert not (tmp_path / "c").exists() and not (tmp_path / "p").exists()


def test_cose_key_file_with_kid(suit, files, tmp_path: Path) -> None:
    (tmp_path / "kek.cose").write_bytes(cbor2.dumps({1: 4, -1: bytes(range(16)), 2: b"from-file"}))
    assert suit("encrypt", "fw.bin", "--recipient-key", "kek.cose", "-o", "c", "--info-out", "i").code == 0
    assert decode_encryption_info((tmp_path / "i").read_bytes()).recipients[0].kid == b"from-file"
    assert suit("encrypt", "--decrypt", "c", "--info", "i", "--recipient-key", "kek.cose", "-o", "p").code == 0
    assert (tmp_path / "p").read_bytes() == FW


@pytest.mark.parametrize("example", EXAMPLES["examples"], ids=lambda e: e["name"])
def test_draft_examples_decrypt_through_the_cli(suit, tmp_path: Path, example: dict) -> None:
    (tmp_path / "info").write_bytes(bytes.fromhex(example["encryption_info"]))
    (tmp_path / "enc").write_bytes(bytes.fromhex(example["ciphertext"]))
    if "kek" in example:
        (tmp_path / "key").write_bytes(bytes.fromhex(example["kek"]))  # raw 'aaaaaaaaaaaaaaaa'
    else:
        ecc = ECC.construct(curve="P-256", d=int(example["ec_private"]["d"], 16))
        (tmp_path / "key").write_bytes(PrivateKey.from_ecc(ecc).to_pem())
    r = suit("encrypt", "--decrypt", "enc", "--info", "info", "--recipient-key", "key", "-o", "out")
    assert r.code == 0, r.err
    assert (tmp_path / "out").read_bytes() == b"This is a real firmware image."


def test_raw_key_that_looks_like_cbor_is_still_a_raw_key(suit, files, tmp_path: Path) -> None:
    secret = bytes([0xA5]) + bytes(range(1, 16))  # starts like a CBOR map of 5 pairs
    (tmp_path / "odd.bin").write_bytes(secret)
    assert suit("encrypt", "fw.bin", "--recipient-key", "odd.bin", "-o", "c", "--info-out", "i").code == 0
    assert decrypt_payload((tmp_path / "c").read_bytes(), (tmp_path / "i").read_bytes(), [KeyWrapKey(secret)]) == FW


SPEC = """
suit-integrated-payloads: {"#fw": {file: fw.enc}}
suit-manifest:
  suit-manifest-sequence-number: 3
  suit-common:
    suit-components: [["00"]]
    suit-shared-sequence:
      - suit-directive-override-parameters:
          suit-parameter-vendor-identifier: fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
          suit-parameter-class-identifier: 1492af14-2569-5e48-bf42-9b2d51f2ab45
          suit-parameter-image-digest: {file: fw.bin}
          suit-parameter-image-size: {file: fw.bin}
      - suit-condition-vendor-identifier: 15
      - suit-condition-class-identifier: 15
  suit-install:
    - suit-directive-override-parameters:
        suit-parameter-uri: "#fw"
        suit-parameter-encryption-info: {file: fw.encinfo}
    - suit-directive-fetch: 2
    - suit-condition-image-match: 15
"""


@pytest.mark.parametrize(("sender", "device"), [("kek128.bin", "kek128.bin"), ("dev.pub.pem", "dev.pem")])
def test_encrypted_envelope_from_the_cli_installs_on_a_device(suit, files, tmp_path: Path,
                                                             sender: str, device: str) -> None:
    """suit encrypt → suit create → suit sign on the host; the processor with the decrypting
    transformer on the device."""
    from suitlib.cli.encrypt import kek_from_bytes
    from suitlib.cose import load_private_pem, load_public_pem
    from suitlib.cose.encrypt import EcdhKey
    from suitlib.processor.decrypt import DecryptTransformer
    from suitlib.processor.memory import InMemoryPlatform
    from suitlib.processor.processor import Processor

    assert suit("keygen", "-o", "sign.pem").code == 0
    assert suit("encrypt", "fw.bin", "--recipient-key", sender, "-o", "fw.enc", "--info-out", "fw.encinfo").code == 0
    (tmp_path / "spec.yaml").write_text(SPEC)
    r = suit("create", "spec.yaml", "-o", "env.suit")
    assert r.code == 0, r.err
    r = suit("sign", "env.suit", "--key", "sign.pem", "-o", "env.signed")
    assert r.code == 0, r.err
    envelope = (tmp_path / "env.signed").read_bytes()
    assert FW[:64] not in envelope  # the integrated payload is the ciphertext

    data = (tmp_path / device).read_bytes()
    key = EcdhKey(load_private_pem(data)) if device.endswith(".pem") else kek_from_bytes(data, what="kek")
    vendor, klass = bytes.fromhex("fa6b4a53d5ad5fdfbe9de663e4d41ffe"), bytes.fromhex("1492af1425695e48bf429b2d51f2ab45")
    platform = InMemoryPlatform.simple(vendor_id=vendor, class_id=klass, components=((b"\x00",), (b"staging",)))
    anchors = [load_public_pem((tmp_path / "sign.pub.pem").read_bytes())]
    transformer = DecryptTransformer([key], staging=(b"staging",))
    result = Processor(platform, anchors, transformers=(transformer,)).update(envelope)
    assert result.ok, result.error
    assert platform.content((b"\x00",)) == FW and platform.load_sequence_number() == 3

    # the same envelope on a device with another key installs nothing
    other = InMemoryPlatform.simple(vendor_id=vendor, class_id=klass, components=((b"\x00",), (b"staging",)))
    wrong = DecryptTransformer([KeyWrapKey(bytes(16)) if not device.endswith(".pem")
                                else EcdhKey(PrivateKey.generate(KeyType.P256))], staging=(b"staging",))
    result = Processor(other, anchors, transformers=(wrong,)).update(envelope)
    assert result.error is not None and result.error.exit_code == 1
    assert other.content((b"\x00",)) is None and other.load_sequence_number() is None  # never written


def test_console_script_round_trip_with_secret_from_environment(tmp_path: Path) -> None:
    """The installed `suit` script: the secret comes from the environment, never argv; a wrong
    key exits 1 with a one-line error and no traceback."""
    import os
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "suit"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "suitlib"]
    (tmp_path / "fw.bin").write_bytes(FW)
    env = {**os.environ, "FW_KEK": "00112233445566778899aabbccddeeff"}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cmd, *args], cwd=tmp_path, env={**env, **extra}, capture_output=True, text=True,
                              timeout=60)

    proc = run("encrypt", "fw.bin", "--recipient-key-env", "FW_KEK", "-o", "fw.enc", "--info-out", "fw.encinfo")
    assert proc.returncode == 0, proc.stderr
    proc = run("encrypt", "--decrypt", "fw.enc", "--info", "fw.encinfo", "--recipient-key-env", "FW_KEK", "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out").read_bytes() == FW
    proc = run("encrypt", "--decrypt", "fw.enc", "--info", "fw.encinfo", "--recipient-key-env", "FW_KEK",
               "-o", "out2", FW_KEK="ffeeddccbbaa99887766554433221100")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert not (tmp_path / "out2").exists()
