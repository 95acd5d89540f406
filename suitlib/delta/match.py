"""Longest exact matches of every target position in the source (creator side).

One suffix array over ``source + target`` (libdivsufsort through ``pydivsufsort``) and its LCP
array give, for every target position ``i``, the longest prefix of ``target[i:]`` that occurs in
the source and where: the nearest source suffix above and below ``i``'s suffix in suffix-array
order, with the LCP between them as a running minimum. Everything is vectorised with numpy.
"""

from __future__ import annotations

import numpy as np

try:  # C-backed suffix array; the creator's one heavy dependency.
    from pydivsufsort import divsufsort as _divsufsort
    from pydivsufsort import kasai as _kasai
except ImportError:  # pragma: no cover - exercised only without the dependency
    _divsufsort = None
    _kasai = None

_BIG = np.int64(1) << np.int64(40)


def _segmented_running_min(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Running minimum of ``values`` restarting wherever ``segment`` increases."""
    shifted = values.astype(np.int64) - segment.astype(np.int64) * _BIG
    acc = np.minimum.accumulate(shifted)
    return acc + segment.astype(np.int64) * _BIG


def _suffix_array(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    if _divsufsort is None:
        raise ImportError("the delta creator needs pydivsufsort (pip install pydivsufsort)")
    arr = np.frombuffer(text, dtype=np.uint8).copy()
    sa = _divsufsort(arr)
    lcp = _kasai(arr, sa)
    return np.asarray(sa, dtype=np.int64), np.asarray(lcp, dtype=np.int64)


def longest_matches(source: bytes, target: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(length, source_pos)`` arrays over target positions (length 0: no match)."""
    n_src, n_tgt = len(source), len(target)
    lengths = np.zeros(n_tgt, dtype=np.int64)
    positions = np.zeros(n_tgt, dtype=np.int64)
    if not n_src or not n_tgt:
        return lengths, positions
    sa, lcp = _suffix_array(source + target)
    total = n_src + n_tgt
    is_src = sa < n_src
    # lcp_prev[r] = LCP(sa[r-1], sa[r]); lcp_prev[0] = 0.
    lcp_prev = np.empty(total, dtype=np.int64)
    lcp_prev[0] = 0
    lcp_prev[1:] = lcp[:-1]

    # Upwards: nearest source suffix at a smaller rank.
    seen = np.cumsum(is_src)  # source suffixes at ranks <= r
    seg_up = np.empty(total, dtype=np.int64)
    seg_up[0] = 0
    seg_up[1:] = seen[:-1]
    up_len = _segmented_running_min(lcp_prev, seg_up)
    src_ranks = np.flatnonzero(is_src)
    up_pos = np.where(seg_up > 0, sa[src_ranks[np.maximum(seg_up - 1, 0)]], 0)
    up_len = np.where(seg_up > 0, up_len, 0)

    # Downwards: the same on the reversed order; LCP(sa[r], sa[r+1]) is lcp[r].
    rev_src = is_src[::-1]
    seen_r = np.cumsum(rev_src)
    seg_dn = np.empty(total, dtype=np.int64)
    seg_dn[0] = 0
    seg_dn[1:] = seen_r[:-1]
    lcp_next_rev = np.empty(total, dtype=np.int64)
    lcp_next_rev[0] = 0
    lcp_next_rev[1:] = lcp[::-1][1:]
    dn_len = _segmented_running_min(lcp_next_rev, seg_dn)
    src_ranks_rev = np.flatnonzero(rev_src)
    dn_pos = np.where(seg_dn > 0, sa[::-1][src_ranks_rev[np.maximum(seg_dn - 1, 0)]], 0)
    dn_len = np.where(seg_dn > 0, dn_len, 0)[::-1]
    dn_pos = dn_pos[::-1]

    # A source suffix's match must stop at the end of the source.
    up_len = np.minimum(up_len, n_src - up_pos)
    dn_len = np.minimum(dn_len, n_src - dn_pos)
    tgt_ranks = ~is_src
    tgt_index = sa[tgt_ranks] - n_src
    best_up = up_len[tgt_ranks] >= dn_len[tgt_ranks]
    lengths[tgt_index] = np.where(best_up, up_len[tgt_ranks], dn_len[tgt_ranks])
    positions[tgt_index] = np.where(best_up, up_pos[tgt_ranks], dn_pos[tgt_ranks])
    # Matches of target suffixes run to the end of the target at most (true by construction).
    return lengths, positions
