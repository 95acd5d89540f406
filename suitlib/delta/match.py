"""Longest exact matches of every target position in the source (creator side).

One suffix array over ``source + target`` (libdivsufsort through ``pydivsufsort``) and its LCP
array give, for every target position ``i``, the longest prefix of ``target[i:]`` that occurs in
the source and where: the nearest source suffix above and below ``i``'s suffix in suffix-array
order, with the LCP between them as a running minimum. Everything is vectorised with numpy.
"""

from __future__ import annotations

import numpy as np

from suitlib.errors import UnsupportedError

try:  # C-backed suffix array; the creator's one heavy dependency.
    from pydivsufsort import divsufsort as _divsufsort
    from pydivsufsort import kasai as _kasai
except ImportError:  # pragma: no cover - exercised only without the dependency
    _divsufsort = None
    _kasai = None



def _nearest_source_lcp(lcp_prev: np.ndarray, is_src: np.ndarray, sa: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """For every rank r: LCP with the nearest source suffix at a smaller rank, and its position.

    ``lcp_prev[r]`` is LCP(sa[r-1], sa[r]). The LCP with the source suffix at rank o < r is the
    minimum of ``lcp_prev[o+1 .. r]``: a running minimum that restarts after every source rank,
    computed in one pass by offsetting each segment below all earlier ones.
    """
    seg = np.cumsum(is_src, dtype=np.int64)
    seg[1:] = seg[:-1].copy()
    seg[0] = 0
    big = np.int64(len(lcp_prev) + 1)
    shifted = lcp_prev - seg * big
    np.minimum.accumulate(shifted, out=shifted)
    length = shifted + seg * big
    src_ranks = np.flatnonzero(is_src)
    has = seg > 0
    pos = sa[src_ranks[np.maximum(seg - 1, 0)]]
    length[~has] = 0
    return length, pos


def _suffix_array(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    if _divsufsort is None:
        raise UnsupportedError("creating delta patches needs the pydivsufsort package",
                               hint="pip install pydivsufsort (applying patches does not)")
    arr = np.frombuffer(text, dtype=np.uint8).copy()
    sa = _divsufsort(arr)
    lcp = _kasai(arr, sa)
    return sa.astype(np.int64), lcp


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
    lcp_prev = np.empty(total, dtype=np.int64)
    lcp_prev[0] = 0
    lcp_prev[1:] = lcp[:-1]
    up_len, up_pos = _nearest_source_lcp(lcp_prev, is_src, sa)
    # Downwards: the same on the reversed rank order, where LCP(rank q-1, rank q) of the
    # reversed order is lcp[total-1-q].
    lcp_rev = np.empty(total, dtype=np.int64)
    lcp_rev[0] = 0
    lcp_rev[1:] = lcp[::-1][1:]
    dn_len, dn_pos = _nearest_source_lcp(lcp_rev, is_src[::-1], sa[::-1])
    dn_len = dn_len[::-1]
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
