"""Interop with the complete examples of draft-ietf-suit-firmware-encryption-19 §8.1–§8.3.

These envelopes use the manifest numbering of their time (install = 17), which the suitlib codec
refuses as an old draft, so the test walks them with plain CBOR: it checks the authentication
wrapper (SHA-256 of the manifest, then COSE_Mac0 HMAC-256/256 with the draft's key or COSE_Sign1
ES256 with the draft's public key, through suitlib's COSE layer), takes
``suit-parameter-encryption-info`` and the ciphertext from the signed manifest, and decrypts with
suitlib — byte-exact plaintext. §8.2 fetches its ciphertext from a URI: the payload of §6.1.4.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cbor2
import pytest
from Crypto.PublicKey import ECC

from suitlib.cose import SymmetricKey, decode_message, load_public_pem
from suitlib.cose.encrypt import EcdhKey, KeyWrapKey, decrypt_payload
from suitlib.cose.encrypt_errors import TagMismatchError
from suitlib.cose.keys import PrivateKey
from suitlib.errors import SignatureError

VECTORS = Path(__file__).parent / "vectors" / "fe"
MANIFESTS = json.loads((VECTORS / "manifests.json").read_text())
EXAMPLES = {e["name"]: e for e in json.loads((VECTORS / "examples.json").read_text())["examples"]}
INSTALL_OLD = 17  # manifest key of suit-install in the draft-19 examples
CONTENT, ENCRYPTION_INFO, URI, IMAGE_SIZE = 18, 19, 21, 14
OVERRIDE = 20


def device_key(name: str) -> KeyWrapKey | EcdhKey:
    example = EXAMPLES[name]
    if "kek" in example:
        return KeyWrapKey(bytes.fromhex(example["kek"]))
    return EcdhKey(PrivateKey.from_ecc(ECC.construct(curve="P-256", d=int(example["ec_private"]["d"], 16))))


def authenticated_manifest(entry: dict, envelope: bytes) -> dict:
    top = cbor2.loads(envelope)
    assert top.tag == 107
    wrapper = cbor2.loads(top.value[2])
    manifest_bstr = top.value[3]
    digest_bstr, auth_block = wrapper[0], wrapper[1]
    alg, digest = cbor2.loads(digest_bstr)
    assert alg == -16 and digest == hashlib.sha256(cbor2.dumps(manifest_bstr)).digest()
    message = decode_message(auth_block)
    tbs = message.to_be_signed(digest_bstr)
    if entry["auth"] == "mac":
        SymmetricKey(MANIFESTS["mac_key_ascii"].encode()).verify(message.alg, tbs, message.signature)
    else:
        load_public_pem(MANIFESTS["signing_public_key_pem"].encode()).verify(message.alg, tbs, message.signature)
    return cbor2.loads(manifest_bstr)


def encryption_parameters(manifest: dict) -> dict:
    install = cbor2.loads(manifest[INSTALL_OLD])
    found: dict = {}
    for code, argument in zip(install[0::2], install[1::2]):
        if code == OVERRIDE:
            found.update(argument)
    assert ENCRYPTION_INFO in found
    return found


@pytest.mark.parametrize("entry", MANIFESTS["manifests"], ids=lambda e: e["name"])
def test_complete_example_decrypts(entry: dict) -> None:
    manifest = authenticated_manifest(entry, bytes.fromhex(entry["envelope"]))
    params = encryption_parameters(manifest)
    if CONTENT in params:  # directive-write: the ciphertext is in the signed manifest
        ciphertext = params[CONTENT]
    else:  # fetch + copy: the ciphertext is fetched; its size is signed
        (uri, example), = entry["fetched"].items()
        assert params[URI] == uri
        ciphertext = bytes.fromhex(EXAMPLES[example]["ciphertext"])
        assert params[IMAGE_SIZE] == len(ciphertext)
    plaintext = decrypt_payload(ciphertext, params[ENCRYPTION_INFO], [device_key(entry["key"])])
    assert plaintext == b"This is a real firmware image."


def test_complete_example_with_a_flipped_byte_is_refused() -> None:
    entry = MANIFESTS["manifests"][0]
    envelope = bytearray(bytes.fromhex(entry["envelope"]))
    ciphertext_at = envelope.index(bytes.fromhex("2F59C3A34D95"))
    envelope[ciphertext_at + 3] ^= 1
    with pytest.raises(AssertionError):  # the manifest digest no longer matches
        authenticated_manifest(entry, bytes(envelope))
    # and even without the manifest check, the GCM tag refuses the modified ciphertext
    manifest = cbor2.loads(cbor2.loads(bytes(envelope)).value[3])
    params = encryption_parameters(manifest)
    with pytest.raises(TagMismatchError):
        decrypt_payload(params[CONTENT], params[ENCRYPTION_INFO], [device_key(entry["key"])])


def test_complete_example_with_another_mac_key_is_refused() -> None:
    entry = dict(MANIFESTS["manifests"][0])
    top = cbor2.loads(bytes.fromhex(entry["envelope"]))
    wrapper = cbor2.loads(top.value[2])
    message = decode_message(wrapper[1])
    with pytest.raises(SignatureError):
        SymmetricKey(b"b" * 32).verify(message.alg, message.to_be_signed(wrapper[0]), message.signature)
