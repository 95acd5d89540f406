"""The vectorised site encoder of the creator gives exactly the diff of the per-window reference
encoder (DELTA-FORMAT §4.3), on relinked corpus firmware and on random runs and maps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.delta.cover import select_covers
from suitlib.delta.create import (
    build_map,
    guess_pointer_base,
    pieces_from_covers,
    split_pieces,
)
from suitlib.delta.encode_sites import SiteEncoder
from suitlib.delta.transform import (
    TRANSFORM_AARCH64,
    TRANSFORM_THUMB2,
    WINDOW,
    AddressMap,
    Sites,
    encode_window,
)


def transform_diff(sites: Sites, diff: bytes, source: bytes, target: bytes, s: int, e: int,
                   o: int, amap: AddressMap) -> bytes:
    """The reference: re-code a diff run's branch sites window by window with the scalar
    encoder of DELTA-FORMAT §4.3 (the inverse of what the applier does)."""
    out = bytearray(diff)
    pos = s
    while pos < e:
        end = min(e, (pos // WINDOW + 1) * WINDOW)
        window = bytearray(out[pos - s : end - s])
        encode_window(sites, window, source[pos + o : end + o], target[pos:end], pos + o, pos, amap)
        out[pos - s : end - s] = window
        pos = end
    return bytes(out)


def _both(kind: int, base: int | None, source: bytes, target: bytes, amap: AddressMap,
          s: int, e: int, o: int) -> tuple[bytes, bytes]:
    sites = Sites(kind, base, len(source))
    src = np.frombuffer(source, dtype=np.uint8)
    tgt = np.frombuffer(target, dtype=np.uint8)
    plain = tgt[s:e] - src[s + o : e + o]
    reference = transform_diff(sites, plain.tobytes(), source, target, s, e, o, amap)
    fast = plain.copy()
    SiteEncoder(sites, source, target, amap).encode(fast, s, e, o)
    return reference, fast.tobytes()


@pytest.mark.parametrize("name, kind", [("openmv2-v3.4.1-to-v3.4.2", TRANSFORM_THUMB2),
                                        ("simba-rpi3-shell-aarch64", TRANSFORM_AARCH64)])
def test_matches_reference_on_corpus(load_pair, name: str, kind: int) -> None:  # type: ignore[no-untyped-def]
    old, new = load_pair(name)
    covers = select_covers(old, new)
    amap = build_map(covers, 64, 512)
    base = guess_pointer_base(old, new, covers, amap) if kind == TRANSFORM_THUMB2 else None
    if kind == TRANSFORM_THUMB2:
        assert base is not None  # the pointer sites are exercised too
    pieces = [p for p in split_pieces(pieces_from_covers(covers, len(new)), 1 << 16, len(new))
              if p[2] is not None]
    changed = 0
    for s, e, o in pieces[:: max(1, len(pieces) // 60)]:
        reference, fast = _both(kind, base, old, new, amap, s, e, o)
        assert fast == reference, (s, e, o)
        changed += reference != (np.frombuffer(new[s:e], np.uint8)
                                 - np.frombuffer(old[s + o : e + o], np.uint8)).tobytes()
    assert changed  # the sampled runs really contain transformed sites


@settings(max_examples=120)
@given(st.data())
def test_matches_reference_on_random_runs(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from([TRANSFORM_THUMB2, TRANSFORM_AARCH64]))
    # Branch-dense bytes: most halfwords look like BL prefixes/suffixes.
    alphabet = st.sampled_from([0x00, 0x12, 0x94, 0x97, 0x14, 0xF0, 0xF7, 0xF8, 0xFF, 0xD0, 0x90])
    n = data.draw(st.integers(8, 1400))
    source = bytes(data.draw(st.lists(alphabet, min_size=n, max_size=n)))
    target = bytes(data.draw(st.lists(alphabet, min_size=n, max_size=n)))
    s = data.draw(st.integers(0, n - 1))
    e = data.draw(st.integers(s, n))
    o = data.draw(st.integers(-s, n - e))
    starts = sorted(set(data.draw(st.lists(st.integers(0, 2 * n), max_size=4))))
    deltas = data.draw(st.lists(st.integers(-64, 64), min_size=len(starts), max_size=len(starts)))
    base = data.draw(st.one_of(st.none(), st.sampled_from([0, 0x9000, 0xF0F00000])))
    reference, fast = _both(kind, base if kind == TRANSFORM_THUMB2 else None, source, target,
                            AddressMap(starts, deltas), s, e, o)
    assert fast == reference
