"""Cover selection: which target ranges are diffed against which source offset (creator side).

A *cover* ``(start, end, offset)`` says target bytes ``[start, end)`` are coded as differences
against ``source[start + offset : end + offset]``; bytes between covers are literal. Starting
from the exact matches of :mod:`suitlib.delta.match`:

1. runs of positions that continue one exact match become candidate matches;
2. a greedy pass keeps the current offset while it still explains a candidate nearly as well
   (relinked code keeps its offset across changed addresses) and merges same-offset
   candidates across small dissimilar gaps;
3. each gap is then shared between its neighbours by the bsdiff rule (extend while more than
   half the bytes agree), so the byte-wise difference stream is mostly zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suitlib.delta.match import longest_matches


@dataclass(frozen=True)
class CoverParams:
    """Tunables of the cover search."""

    min_match: int = 8
    """Shortest exact match considered."""
    switch_gain: int = 6
    """A new offset must explain this many more bytes than the current one to replace it."""
    merge_ratio: float = 0.2
    """Same-offset matches merge across a gap whose bytes agree at least this often."""
    merge_gap: int = 24
    """Gaps up to this length always merge when the offset is the same."""


Cover = tuple[int, int, int]


def _eq_count(src: np.ndarray, tgt: np.ndarray, start: int, end: int, offset: int) -> int:
    lo = max(start, -offset)
    hi = min(end, len(src) - offset)
    if hi <= lo:
        return 0
    return int(np.count_nonzero(tgt[lo:hi] == src[lo + offset : hi + offset]))


def candidate_runs(lengths: np.ndarray, positions: np.ndarray, min_match: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, length and offset of each maximal exact match of at least ``min_match`` bytes."""
    n = len(lengths)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    cont = np.zeros(n, dtype=bool)
    cont[1:] = (lengths[:-1] > 0) & (lengths[1:] == lengths[:-1] - 1)
    starts = np.flatnonzero(~cont & (lengths >= min_match))
    return starts, lengths[starts], positions[starts] - starts


def greedy_covers(src: np.ndarray, tgt: np.ndarray, starts: np.ndarray, lens: np.ndarray,
                  offsets: np.ndarray, params: CoverParams) -> list[Cover]:
    """Step 2: a left-to-right choice among candidate matches (exact-match ends)."""
    covers: list[Cover] = []
    cur_s = cur_e = cur_o = -1
    have = False
    gain = params.switch_gain
    for s, length, o in zip(starts.tolist(), lens.tolist(), offsets.tolist()):
        e = s + length
        if not have:
            cur_s, cur_e, cur_o, have = s, e, o, True
            continue
        if e <= cur_e:
            continue
        if o == cur_o:
            if s <= cur_e:
                cur_e = e
                continue
            gap = s - cur_e
            if gap <= params.merge_gap or _eq_count(src, tgt, cur_e, s, o) >= gap * params.merge_ratio:
                cur_e = e
                continue
            covers.append((cur_s, cur_e, cur_o))
            cur_s, cur_e, cur_o = s, e, o
            continue
        begin = max(s, cur_e)
        if e - begin < params.min_match:
            continue
        # Does the current offset explain this match nearly as well?  Then keep it.
        if _eq_count(src, tgt, begin, e, cur_o) + gain >= e - begin:
            continue
        covers.append((cur_s, cur_e, cur_o))
        cur_s, cur_e, cur_o = begin, e, o
    if have:
        covers.append((cur_s, cur_e, cur_o))
    return covers


def _best_prefix(eq: np.ndarray) -> tuple[int, np.ndarray]:
    """Length maximising ``2*matches - length`` over prefixes of ``eq`` (0 if none is positive)."""
    if not len(eq):
        return 0, np.zeros(1, dtype=np.int64)
    score = np.cumsum(eq.astype(np.int64) * 2 - 1)
    k = int(np.argmax(score))
    return (k + 1 if score[k] > 0 else 0), score


def _eq_vector(src: np.ndarray, tgt: np.ndarray, start: int, end: int, offset: int) -> np.ndarray:
    out = np.zeros(max(0, end - start), dtype=bool)
    lo = max(start, -offset)
    hi = min(end, len(src) - offset)
    if hi > lo:
        out[lo - start : hi - start] = tgt[lo:hi] == src[lo + offset : hi + offset]
    return out


def extend_covers(src: np.ndarray, tgt: np.ndarray, covers: list[Cover]) -> list[Cover]:
    """Step 3: grow every cover into the gaps around it by the bsdiff rule."""
    out: list[Cover] = []
    n = len(tgt)
    for idx, (s, e, o) in enumerate(covers):
        prev_end = out[-1][1] if out else 0
        # Backwards into the gap before (the previous cover already took its share).
        if s > prev_end:
            eq = _eq_vector(src, tgt, prev_end, s, o)[::-1]
            back, _ = _best_prefix(eq)
            s -= back
        # Forwards into the gap after, up to the next cover's start.
        nxt = covers[idx + 1][0] if idx + 1 < len(covers) else n
        if nxt > e:
            eq_f = _eq_vector(src, tgt, e, nxt, o)
            fwd, _ = _best_prefix(eq_f)
            if idx + 1 < len(covers) and fwd:
                # Share the gap with the next cover's backwards extension: best split point.
                no = covers[idx + 1][2]
                eq_b = _eq_vector(src, tgt, e, nxt, no)
                gain_f = np.concatenate(([0], np.cumsum(eq_f.astype(np.int64) * 2 - 1)))
                gain_b = np.concatenate((np.cumsum((eq_b[::-1].astype(np.int64) * 2 - 1))[::-1], [0]))
                # Split at k: this cover takes [e, e+k), the next may take [e+k, nxt).
                total = gain_f + np.maximum.accumulate(gain_b[::-1])[::-1]
                k = int(np.argmax(total))
                fwd = k if gain_f[k] > 0 else 0
            e += fwd
        out.append((s, e, o))
    return out


def select_covers(source: bytes, target: bytes, params: CoverParams | None = None) -> list[Cover]:
    """Covers for ``target`` against ``source``, sorted and non-overlapping."""
    params = params or CoverParams()
    src = np.frombuffer(source, dtype=np.uint8)
    tgt = np.frombuffer(target, dtype=np.uint8)
    lengths, positions = longest_matches(source, target)
    starts, lens, offsets = candidate_runs(lengths, positions, params.min_match)
    covers = greedy_covers(src, tgt, starts, lens, offsets, params)
    return extend_covers(src, tgt, covers)
