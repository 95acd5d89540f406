"""The spec builder (specs/MANIFEST-SPEC-FORMAT.md), its inverse, severing and the renderings."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from pathlib import Path

import pytest

from suitlib.cbor import Tag
from suitlib.errors import DigestMismatchError, InputError, ValidationError
from suitlib.manifest import (
    Digest,
    Directive,
    Parameter,
    SpecError,
    TryEach,
    VersionMatch,
    attach_elements,
    build_envelope,
    check_manifest_digest,
    check_severable,
    decode_envelope,
    encode_envelope,
    envelope_to_spec,
    needs_resigning,
    render_diag,
    render_text,
    sever,
    severable_digest,
)
from tests.conftest import VECTORS

VENDOR = "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"


def full_spec() -> dict:
    """A spec using every kind of argument the builder knows."""
    return {
        "suit-envelope-tagged": False,
        "suit-integrated-payloads": {"#fw": {"file": "fw.bin"}},
        "suit-manifest": {
            "suit-manifest-sequence-number": 9,
            "suit-reference-uri": "coap://example/m.suit",
            "suit-manifest-component-id": ["6d"],
            "suit-common": {
                "suit-components": [["00"], ["01", "6162"]],
                "suit-shared-sequence": [
                    {"suit-directive-set-component-index": True},
                    {"suit-directive-override-parameters": {
                        "suit-parameter-vendor-identifier": {"uuid5": {"namespace": "dns", "name": "arm.com"}},
                        "suit-parameter-class-identifier": {"uuid5": {"namespace": VENDOR, "name": "suit"}},
                        "suit-parameter-image-digest": {"file": "fw.bin"},
                        "suit-parameter-image-size": {"file": "fw.bin"},
                        "suit-parameter-version": {"comparison": "greater-equal", "parts": [1, 2]},
                        "-300": {"bstr": "beef"}}},
                    {"suit-condition-vendor-identifier": ["suit-send-record-on-failure"]},
                    {"suit-directive-try-each": [
                        [{"suit-condition-component-slot": 5}],
                        [{"suit-directive-set-parameters": {"suit-parameter-component-slot": 1}}],
                        None]},
                ],
            },
            "suit-install": [
                {"suit-directive-set-component-index": [0, 1]},
                {"suit-directive-override-multiple": {"0": {"suit-parameter-uri": "#fw"},
                                                      "1": {"suit-parameter-content": {"utf8": "hi"}}}},
                {"suit-directive-copy-params": {"0": ["suit-parameter-image-digest", "suit-parameter-image-size"]}},
                {"suit-directive-run-sequence": [{"suit-directive-fetch": 2}, {"suit-directive-write": 2}]},
                {"suit-directive-swap": 0},
                {"suit-directive-invoke": 0},
                {"suit-command-custom": {"code": -257, "argument": {"map": [[1, "x"]]}}},
            ],
            "suit-invoke": [{"suit-directive-override-parameters": {
                "suit-parameter-invoke-args": "0102", "suit-parameter-fetch-arguments": {"hex": "03"}}},
                {"suit-directive-invoke": 2}],
            "suit-text": {"en": {"suit-text-manifest-description": "test",
                                 "suit-text-components": [{"suit-component-identifier": ["00"],
                                                           "suit-text-vendor-name": "ACME"}]}},
            "suit-manifest-extensions": {"99": [1, {"bstr": "00"}]},
        },
        "severable": ["suit-text"],
    }


@pytest.fixture()
def firmware(tmp_path: Path) -> Path:
    (tmp_path / "fw.bin").write_bytes(b"firmware image " * 100)
    return tmp_path


def test_file_references_fill_digest_size_and_payload(firmware: Path) -> None:
    env = build_envelope(full_spec(), base_dir=firmware)
    image = (firmware / "fw.bin").read_bytes()
    params = env.manifest.common.shared_sequence[1].argument
    assert params[Parameter.IMAGE_DIGEST] == Digest(-16, hashlib.sha256(image).digest())
    assert params[Parameter.IMAGE_SIZE] == len(image)
    assert env.integrated == {"#fw": image}
    assert not env.tagged


def test_uuids_from_names(firmware: Path) -> None:
    params = build_envelope(full_spec(), base_dir=firmware).manifest.common.shared_sequence[1].argument
    assert params[Parameter.VENDOR_IDENTIFIER] == uuid.UUID(VENDOR).bytes
    assert params[Parameter.CLASS_IDENTIFIER] == uuid.UUID("1492af14-2569-5e48-bf42-9b2d51f2ab45").bytes


def test_every_argument_kind_is_built(firmware: Path) -> None:
    env = build_envelope(full_spec(), base_dir=firmware)
    shared = env.manifest.common.shared_sequence
    assert shared[0].argument is True
    assert shared[1].argument[Parameter.VERSION] == VersionMatch(2, (1, 2))
    assert shared[1].argument[-300] == b"\xbe\xef"
    assert shared[2].argument == 2
    try_each = shared[3].argument
    assert isinstance(try_each, TryEach) and try_each.empty_allowed and len(try_each.sequences) == 2
    install = env.member(20)
    assert install[0].argument == (0, 1)
    assert install[1].argument[1][Parameter.CONTENT] == b"hi"
    assert install[2].argument == {0: (Parameter.IMAGE_DIGEST, Parameter.IMAGE_SIZE)}
    assert [c.code for c in install[3].argument] == [Directive.FETCH, Directive.WRITE]
    assert install[6].code == -257 and install[6].argument == {1: "x"}
    assert isinstance(env.manifest.text, Digest) and 23 in env.elements
    assert env.manifest.extensions == {99: (1, b"\x00")}


def test_built_envelope_round_trips_through_bytes_and_json(firmware: Path) -> None:
    env = build_envelope(full_spec(), base_dir=firmware)
    data = encode_envelope(env)
    decoded = decode_envelope(data)
    assert decoded == env
    check_manifest_digest(decoded)
    check_severable(decoded)
    spec = json.loads(json.dumps(envelope_to_spec(decoded)))
    assert encode_envelope(build_envelope(spec)) == data


def test_pen_vendor_identifier_round_trips() -> None:
    spec = {"suit-manifest": {"suit-manifest-sequence-number": 1, "suit-common": {
        "suit-components": [[]], "suit-shared-sequence": [{"suit-directive-override-parameters": {
            "suit-parameter-vendor-identifier": {"pen": "2b0601040182"}}}]}}}
    env = build_envelope(spec)
    value = decode_envelope(encode_envelope(env)).manifest.common.shared_sequence[0].argument[1]
    assert value == Tag(112, bytes.fromhex("2b0601040182"))
    assert envelope_to_spec(env)["suit-manifest"]["suit-common"]["suit-shared-sequence"][0][
        "suit-directive-override-parameters"]["suit-parameter-vendor-identifier"] == {"pen": "2b0601040182"}


@pytest.mark.parametrize("mutate,kind,path", [
    (lambda s: s["suit-manifest"]["suit-install"].append({"suit-directive-jump": 1}), SpecError,
     "suit-manifest/suit-install[7]"),
    (lambda s: s["suit-manifest"]["suit-invoke"][0]["suit-directive-override-parameters"].update(
        {"suit-parameter-invoke-args": "xyz"}), SpecError,
     "suit-manifest/suit-invoke[0]/suit-directive-override-parameters/suit-parameter-invoke-args"),
    (lambda s: s["suit-integrated-payloads"].update({"#x": {"file": "missing.bin"}}), InputError,
     "suit-integrated-payloads/#x"),
    (lambda s: s["suit-manifest"].pop("suit-manifest-sequence-number"), SpecError, "suit-manifest"),
    (lambda s: s.update({"severable": ["suit-load"]}), SpecError, "severable"),
    (lambda s: s.update({"surprise": 1}), SpecError, ""),
])
def test_spec_errors_name_the_place(firmware: Path, mutate, kind, path: str) -> None:
    spec = full_spec()
    mutate(spec)
    with pytest.raises(kind) as info:
        build_envelope(spec, base_dir=firmware)
    assert info.value.path == path


def test_stale_signatures_in_a_spec_are_refused() -> None:
    spec = envelope_to_spec(decode_envelope((VECTORS / "example0-signed.cbor").read_bytes()))
    spec["suit-manifest"]["suit-manifest-sequence-number"] = 1
    with pytest.raises(SpecError) as info:
        build_envelope(spec)
    assert info.value.path == "suit-authentication-blocks"


def test_severing_an_inline_member_changes_the_manifest_and_drops_signatures() -> None:
    signed = decode_envelope((VECTORS / "example1-signed.cbor").read_bytes())
    severed = sever(signed, ["install"])
    assert needs_resigning(signed, severed)
    assert severed.authentication.blocks == ()
    assert severed.manifest.install == severable_digest(20, signed.manifest.install)
    check_manifest_digest(severed)  # the digest was recomputed for the new manifest
    assert 20 not in severed.elements


def test_attach_then_sever_keeps_the_manifest() -> None:
    env = decode_envelope((VECTORS / "example1-unsigned.cbor").read_bytes())
    attached = attach_elements(env)
    assert set(attached.elements) == {20}
    check_severable(attached)
    severed = sever(attached)
    assert not needs_resigning(attached, severed)
    assert severed.authentication == attached.authentication


def test_sever_refuses_absent_members() -> None:
    env = decode_envelope((VECTORS / "example0-unsigned.cbor").read_bytes())
    with pytest.raises(ValidationError):
        sever(env, ["text"])


def test_check_severable_catches_swapped_content() -> None:
    env = decode_envelope((VECTORS / "example2-signed.cbor").read_bytes())
    install = env.elements[20]
    other = decode_envelope((VECTORS / "example1-signed.cbor").read_bytes()).manifest.install
    tampered = dataclasses.replace(env, elements={20: other, 23: env.elements[23]})
    with pytest.raises(DigestMismatchError) as info:
        check_severable(tampered)
    assert info.value.path == "install"
    assert install != other


def test_render_text_summarises() -> None:
    env = decode_envelope((VECTORS / "example2-severed-signed.cbor").read_bytes())
    text = render_text(env)
    assert "sequence number 2" in text and "authentication blocks: 1" in text
    assert "install: severed" in text and "text: severed" in text
    assert "https://git.io/JJYoj" in text and "(matches)" in text


def test_render_diag_of_untagged_and_custom(firmware: Path) -> None:
    env = build_envelope(full_spec(), base_dir=firmware)
    diag = render_diag(encode_envelope(env))
    assert not diag.startswith("107(")
    assert "/ command-custom / -257," in diag
    assert "/ directive-try-each / 15,[" in diag and "null" in diag
    assert '/ integrated-payload / "#fw":' in diag


def test_file_reader_can_be_injected() -> None:
    served: list[Path] = []

    def read(path: Path) -> bytes:
        served.append(path)
        return b"in memory"

    spec = full_spec()
    env = build_envelope(spec, base_dir=Path("/nonexistent"), read_file=read)
    assert env.integrated["#fw"] == b"in memory"
    assert served == [Path("/nonexistent/fw.bin")]  # read once, reused for digest and size
