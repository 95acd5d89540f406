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

    ``lcp_prev[r]`` is LCP(sa[r-1], sa[r]) (int64; overwritten with the result). The LCP with
    the source suffix at rank o < r is the minimum of ``lcp_prev[o+1 .. r]``: a running minimum
    that restarts after every source rank, computed in one pass by offsetting each segment
    below all earlier ones. Works in place to keep the passes over the arrays few.
    """
    seg = np.cumsum(is_src, dtype=np.int64)
    seg -= is_src  # source ranks strictly before r
    big = len(lcp_prev) + 1
    seg *= big
    lcp_prev -= seg
    np.minimum.accumulate(lcp_prev, out=lcp_prev)
    lcp_prev += seg
    seg //= big
    seg -= 1  # index of the nearest source rank among the source ranks, -1: none
    none = seg < 0
    np.maximum(seg, 0, out=seg)
    pos = sa[np.flatnonzero(is_src)][seg] if is_src.any() else np.zeros_like(seg)
    lcp_prev[none] = 0
    return lcp_prev, pos


def _suffix_array(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    if _divsufsort is None:
        raise UnsupportedError("creating delta patches needs the pydivsufsort package",
                               hint="pip install pydivsufsort (applying patches does not)")
    arr = np.frombuffer(bytearray(text), dtype=np.uint8)
    sa = _divsufsort(arr)
    lcp = _kasai(arr, sa)
    return sa, lcp


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
    lcp_rev[1:] = lcp[-2::-1]
    dn_len, dn_pos = _nearest_source_lcp(lcp_rev, np.ascontiguousarray(is_src[::-1]),
                                         np.ascontiguousarray(sa[::-1]))
    tgt_ranks = np.flatnonzero(~is_src)
    tgt_index = sa[tgt_ranks] - n_src
    rev_ranks = total - 1 - tgt_ranks
    u_len, u_pos = up_len[tgt_ranks], up_pos[tgt_ranks]
    d_len, d_pos = dn_len[rev_ranks], dn_pos[rev_ranks]
    # A source suffix's match must stop at the end of the source.
    np.minimum(u_len, n_src - u_pos, out=u_len)
    np.minimum(d_len, n_src - d_pos, out=d_len)
    best_up = u_len >= d_len
    lengths[tgt_index] = np.where(best_up, u_len, d_len)
    positions[tgt_index] = np.where(best_up, u_pos, d_pos)
    # Matches of target suffixes run to the end of the target at most (true by construction).
    return lengths, positions
