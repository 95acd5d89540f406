"""Each strict-decoding fault raises its own DecodeError subclass naming the path (§8 CDDL,
RFC 8949 §4.2.1 deterministic encoding, suitlib.limits bounds)."""

from __future__ import annotations

import hashlib
import time

import pytest

from suitlib.cbor import (
    DepthLimitError,
    DuplicateKeyError,
    IndefiniteLengthError,
    ItemLimitError,
    MalformedError,
    NonCanonicalError,
    SizeLimitError,
    Tag,
    TrailingBytesError,
    bstr,
    decode,
    encode,
)
from suitlib.errors import DecodeError, UnsupportedError
from suitlib.limits import Limits
from suitlib.manifest import (
    InvalidValueError,
    MissingKeyError,
    OldDraftError,
    WrongTagError,
    WrongTypeError,
    decode_envelope,
)
from tests.conftest import VECTORS

EXAMPLE0 = (VECTORS / "example0-unsigned.cbor").read_bytes()
MANIFEST0 = decode(decode(EXAMPLE0).value[3])  # generic dict of example 0's manifest
COMMON0 = decode(MANIFEST0[3])
SHARED0 = list(decode(COMMON0[4]))


def envelope(manifest: bytes | dict, *, tag: int | None = 107) -> bytes:
    """An envelope around manifest bytes (or a generic manifest map), with a matching digest."""
    content = manifest if isinstance(manifest, bytes) else encode(manifest)
    digest = encode([-16, hashlib.sha256(bstr(content)).digest()])
    body = encode({2: encode([digest]), 3: content})
    return body if tag is None else encode(Tag(tag, None))[:-1] + body


def manifest_with_common(common: dict | bytes) -> dict:
    out = dict(MANIFEST0)
    out[3] = common if isinstance(common, bytes) else encode(common)
    return out


def manifest_with_shared(shared: list | bytes) -> dict:
    common = dict(COMMON0)
    common[4] = shared if isinstance(shared, bytes) else encode(shared)
    return manifest_with_common(common)


def fault(data: bytes, kind: type[DecodeError] | type[UnsupportedError], path: str, **kw) -> DecodeError:
    with pytest.raises(kind) as info:
        decode_envelope(data, **kw)
    assert info.value.path == path, info.value.message
    return info.value


def test_helpers_make_a_valid_envelope() -> None:
    assert envelope(MANIFEST0) == EXAMPLE0
    decode_envelope(envelope(manifest_with_shared(SHARED0)))


# --- wrong tag -----------------------------------------------------------------------------

def test_wrong_envelope_tag() -> None:
    err = fault(envelope(MANIFEST0, tag=108), WrongTagError, "")
    assert "107" in err.message


def test_tagged_manifest_is_refused() -> None:
    fault(envelope(encode(Tag(1070, MANIFEST0))), WrongTagError, "manifest")


def test_wrong_vendor_id_tag() -> None:
    shared = list(SHARED0)
    params = dict(shared[1])
    params[1] = Tag(113, params[1])
    shared[1] = params
    fault(envelope(manifest_with_shared(shared)), WrongTagError,
          "manifest/common/shared-sequence[0]/directive-override-parameters/vendor-identifier")


# --- wrong types ---------------------------------------------------------------------------

def test_component_id_of_wrong_type() -> None:
    common = dict(COMMON0)
    common[2] = [5]
    fault(envelope(manifest_with_common(common)), WrongTypeError, "manifest/common/components[0]")


def test_component_id_part_of_wrong_type() -> None:
    common = dict(COMMON0)
    common[2] = [[b"\x00", "text"]]
    fault(envelope(manifest_with_common(common)), WrongTypeError, "manifest/common/components[0][1]")


def test_sequence_number_of_wrong_type() -> None:
    m = dict(MANIFEST0)
    m[2] = "two"
    err = fault(envelope(m), WrongTypeError, "manifest/manifest-sequence-number")
    assert err.expected == "uint" and err.got == "tstr"


def test_parameter_of_wrong_type() -> None:
    shared = list(SHARED0)
    params = dict(shared[1])
    params[14] = "big"
    shared[1] = params
    fault(envelope(manifest_with_shared(shared)), WrongTypeError,
          "manifest/common/shared-sequence[0]/directive-override-parameters/image-size")


def test_condition_argument_of_wrong_type() -> None:
    shared = SHARED0[:2] + [1, "fifteen"]
    fault(envelope(manifest_with_shared(shared)), WrongTypeError,
          "manifest/common/shared-sequence[1]/condition-vendor-identifier")


def test_envelope_that_is_not_a_map() -> None:
    fault(encode(Tag(107, [1, 2])), WrongTypeError, "")


def test_manifest_member_not_a_bstr() -> None:
    data = encode(Tag(107, {2: decode(EXAMPLE0).value[2], 3: MANIFEST0}))
    fault(data, WrongTypeError, "manifest")


# --- shape errors --------------------------------------------------------------------------

def test_odd_command_sequence() -> None:
    fault(envelope(manifest_with_shared(SHARED0 + [1])), InvalidValueError, "manifest/common/shared-sequence")


def test_try_each_with_one_sequence() -> None:
    shared = SHARED0 + [15, [encode([1, 15])]]
    fault(envelope(manifest_with_shared(shared)), InvalidValueError,
          "manifest/common/shared-sequence[3]/directive-try-each")


def test_missing_sequence_number() -> None:
    m = dict(MANIFEST0)
    del m[2]
    fault(envelope(m), MissingKeyError, "manifest")


def test_missing_authentication_wrapper() -> None:
    fault(encode(Tag(107, {3: decode(EXAMPLE0).value[3]})), MissingKeyError, "")


# --- duplicate keys ------------------------------------------------------------------------

def test_duplicate_key_in_envelope() -> None:
    body = EXAMPLE0[2:]
    auth_and_manifest = body[1:]
    manifest_entry = auth_and_manifest[auth_and_manifest.index(b"\x03\x58"):]
    data = b"\xd8\x6b\xa3" + auth_and_manifest + manifest_entry
    err = fault(data, DuplicateKeyError, "")
    assert "manifest" in err.message


def test_duplicate_key_in_manifest() -> None:
    items = [encode(k) + encode(v) for k, v in sorted(MANIFEST0.items())]
    content = bytes([0xA0 + len(items) + 1]) + b"".join(items[:2]) + items[1] + b"".join(items[2:])
    fault(envelope(content), DuplicateKeyError, "manifest")


def test_duplicate_parameter_key() -> None:
    params = SHARED0[1]
    items = [encode(k) + encode(v) for k, v in params.items()]
    raw_params = bytes([0xA0 + len(items) + 1]) + items[0] + items[0] + b"".join(items[1:])
    shared = b"\x86" + encode(20) + raw_params + b"".join(encode(x) for x in SHARED0[2:])
    fault(envelope(manifest_with_shared(shared)), DuplicateKeyError, "manifest/common/shared-sequence[1]")


# --- indefinite lengths ---------------------------------------------------------------------

def test_indefinite_length_manifest_map() -> None:
    items = b"".join(encode(k) + encode(v) for k, v in sorted(MANIFEST0.items()))
    fault(envelope(b"\xbf" + items + b"\xff"), IndefiniteLengthError, "manifest")


def test_indefinite_length_components_array() -> None:
    common = b"\xa2\x02\x9f\x81\x41\x00\xff\x04" + encode(COMMON0[4])
    fault(envelope(manifest_with_common(common)), IndefiniteLengthError, "manifest/common/components")


def test_indefinite_length_byte_string() -> None:
    common = b"\xa2\x02\x81\x81\x5f\x41\x00\xff\x04" + encode(COMMON0[4])
    fault(envelope(manifest_with_common(common)), IndefiniteLengthError, "manifest/common/components[0][0]")


# --- non-deterministic encodings -------------------------------------------------------------

def test_non_shortest_integer() -> None:
    m = dict(MANIFEST0)
    items = [encode(k) + (b"\x18\x00" if k == 2 else encode(v)) for k, v in sorted(m.items())]
    content = bytes([0xA0 + len(items)]) + b"".join(items)
    fault(envelope(content), NonCanonicalError, "manifest/manifest-sequence-number")


def test_unsorted_map_keys() -> None:
    items = [encode(k) + encode(v) for k, v in sorted(MANIFEST0.items())]
    items[0], items[1] = items[1], items[0]
    fault(envelope(bytes([0xA0 + len(items)]) + b"".join(items)), NonCanonicalError, "manifest")


# --- nesting, size, items ----------------------------------------------------------------------

def test_excess_nesting_in_an_unknown_member() -> None:
    m = dict(MANIFEST0)
    m[99] = 0
    deep = b"\x81" * 40 + b"\x00"
    content = encode(m)
    content = content[:-3] + b"\x18\x63" + deep if content.endswith(b"\x18\x63\x00") else None
    assert content is not None
    err = fault(envelope(content), DepthLimitError, "manifest/99" + "[0]" * 15)
    assert err.limit == "max_depth"


def test_deep_nesting_is_refused_fast() -> None:
    data = b"\xd8\x6b" + b"\x81" * 500_000 + b"\x00"
    start = time.process_time()
    with pytest.raises(DepthLimitError):
        decode_envelope(data)
    assert time.process_time() - start < 1.0


def test_oversize_input() -> None:
    err = fault(EXAMPLE0, SizeLimitError, "", limits=Limits(max_envelope_size=100))
    assert err.limit == "max_envelope_size"


def test_huge_length_prefix_is_refused_without_allocating() -> None:
    fault(b"\xd8\x6b\xa2\x02\x5b\x00\x00\x00\xff\xff\xff\xff\xff", MalformedError, "authentication-wrapper")
    fault(b"\xd8\x6b\x9b\x00\x00\x00\xff\xff\xff\xff\xff", ItemLimitError, "")


def test_item_limit() -> None:
    # CBOR-level faults inside a command sequence name the raw array index (here the parameters
    # map, item 1 of the flat code/argument array)
    fault(EXAMPLE0, ItemLimitError, "manifest/common/shared-sequence[1]", limits=Limits(max_items=20))


def test_component_limit() -> None:
    common = dict(COMMON0)
    common[2] = [[bytes([i])] for i in range(5)]
    fault(envelope(manifest_with_common(common)), ItemLimitError, "manifest/common/components",
          limits=Limits(max_components=4))


# --- trailing bytes ----------------------------------------------------------------------------

def test_trailing_bytes_after_envelope() -> None:
    err = fault(EXAMPLE0 + b"\x00", TrailingBytesError, "")
    assert err.offset == len(EXAMPLE0) - 2  # counted after the tag head


def test_trailing_bytes_inside_the_manifest_bstr() -> None:
    fault(envelope(encode(MANIFEST0) + b"\xf6"), TrailingBytesError, "manifest")


def test_truncated_envelope() -> None:
    fault(EXAMPLE0[:-1], MalformedError, "manifest")


# --- older drafts ------------------------------------------------------------------------------

def test_draft09_manifest_keys() -> None:
    m = dict(MANIFEST0)
    m[10] = encode([3, 15])  # draft-09 validate
    err = fault(envelope(m), OldDraftError, "manifest")
    assert "draft-09" in err.message


def test_draft20_install_key() -> None:
    m = dict(MANIFEST0)
    m[17] = encode([21, 2])
    assert "draft-20" in fault(envelope(m), OldDraftError, "manifest").message


def test_draft09_attached_cose_in_auth_wrapper() -> None:
    sign1 = encode(Tag(18, [encode({1: -7}), {}, b"payload", b"\x00" * 64]))
    content = encode(MANIFEST0)
    data = b"\xd8\x6b" + encode({2: encode([sign1]), 3: content})[1:] if False else \
        encode(Tag(107, {2: encode([sign1]), 3: content}))
    fault(data, OldDraftError, "authentication-wrapper[0]")


def test_draft09_digest_algorithm_enumeration() -> None:
    digest = encode([2, hashlib.sha256(bstr(encode(MANIFEST0))).digest()])
    data = encode(Tag(107, {2: encode([digest]), 3: encode(MANIFEST0)}))
    fault(data, OldDraftError, "authentication-wrapper[0]")


# --- keys that Python would confuse with SUIT's integer keys -----------------------------------

def test_boolean_envelope_key_is_not_taken_for_delegation() -> None:
    # found by the full one-byte mutation sweep: key 23 (0x17) mutated to true (0xf5)
    data = bytearray((VECTORS / "example2-signed.cbor").read_bytes())
    position = data.rindex(b"\x17\x59\x02\x0b")
    data[position] = 0xF5
    fault(bytes(data), WrongTypeError, "")


def test_float_key_is_not_taken_for_a_manifest_key() -> None:
    items = [encode(k) + encode(v) for k, v in sorted(MANIFEST0.items())]
    items[0] = b"\xf9\x3c\x00" + encode(MANIFEST0[1])  # 1.0 instead of 1 (sorts after the ints)
    content = bytes([0xA0 + len(items)]) + b"".join(items[1:] + items[:1])
    fault(envelope(content), WrongTypeError, "manifest")


def test_float_key_in_common() -> None:
    items = sorted(COMMON0.items())
    content = b"\xa2" + encode(4) + encode(items[1][1]) + b"\xf9\x40\x00" + encode(items[0][1])  # 2.0
    fault(envelope(manifest_with_common(content)), WrongTypeError, "manifest/common")
