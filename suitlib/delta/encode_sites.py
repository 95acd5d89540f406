"""Creator side of the branch transforms, vectorised (specs/DELTA-FORMAT.md §4.3).

The same sites and the same arithmetic as :func:`suitlib.delta.transform.encode_window`, but for
a whole diff run at once with numpy: candidates are found with array masks, the scan rule
("after a site, continue at ``i + 4``") becomes "inside a chain of candidates two bytes apart,
every other one", and predictions are computed on arrays. The per-window reference encoder
stays the specification the tests compare this one with.
"""

from __future__ import annotations

import numpy as np

from suitlib.delta.transform import TRANSFORM_AARCH64, TRANSFORM_THUMB2, WINDOW, AddressMap, Sites

_M24 = 0xFFFFFF
_M32 = 0xFFFFFFFF


def _select(pos: np.ndarray, window: np.ndarray) -> np.ndarray:
    """The scan rule on sorted, distinct candidate offsets: a chain of candidates spaced exactly
    two bytes apart inside one window keeps its 1st, 3rd, 5th... member."""
    if len(pos) < 2:
        return np.ones(len(pos), dtype=bool)
    link = np.zeros(len(pos), dtype=bool)
    link[1:] = (np.diff(pos) == 2) & (window[1:] == window[:-1])
    idx = np.arange(len(pos))
    head = np.maximum.accumulate(np.where(link, 0, idx))
    return (idx - head) % 2 == 0


def _mapped(amap_starts: np.ndarray, amap_deltas: np.ndarray, address: np.ndarray) -> np.ndarray:
    if not len(amap_starts):
        return address
    k = np.searchsorted(amap_starts, address, side="right") - 1
    return address + np.where(k >= 0, amap_deltas[np.maximum(k, 0)], 0)


def _thumb(b0: np.ndarray, b1: np.ndarray, b2: np.ndarray, b3: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(op, imm)`` of Thumb-2 T4 pairs (transform.thumb_fields on arrays)."""
    hw1 = b0 | b1 << 8
    hw2 = b2 | b3 << 8
    s = (hw1 >> 10) & 1
    i1 = 1 - (((hw2 >> 13) & 1) ^ s)
    i2 = 1 - (((hw2 >> 11) & 1) ^ s)
    imm = (s << 23) | (i1 << 22) | (i2 << 21) | ((hw1 & 0x3FF) << 11) | (hw2 & 0x7FF)
    op = ((hw1 >> 11) << 3) | (((hw2 >> 14) & 3) << 1) | ((hw2 >> 12) & 1)
    return op, np.where(imm & (1 << 23), imm - (1 << 24), imm)


class SiteEncoder:
    """Re-codes the sites of diff runs: ``encode(diff, s, e, o)`` for target ``[s, e)`` read
    against source offset ``s + o`` (the run must not cross a chunk boundary).

    Which source offsets can start a site is decided once for the whole source (byte masks);
    a run then only looks at its candidates.
    """

    def __init__(self, sites: Sites, source: bytes, target: bytes, amap: AddressMap) -> None:
        self.kind = sites.kind
        self.base = sites.base
        self.src = np.frombuffer(source, dtype=np.uint8)
        self.tgt = np.frombuffer(target, dtype=np.uint8)
        self.starts = np.asarray(amap.starts, dtype=np.int64)
        self.deltas = np.asarray(amap.deltas, dtype=np.int64)
        n = len(source)
        src = self.src
        self.branch_at = np.zeros(n, dtype=bool)
        self.pointer_at = np.zeros(n, dtype=bool)
        if n >= 4:
            if self.kind == TRANSFORM_AARCH64:
                self.branch_at[: n - 3] = (src[3:] & 0x7C) == 0x14
            else:
                self.branch_at[: n - 3] = ((src[1 : n - 2] & 0xF8) == 0xF0) & ((src[3:] & 0x90) == 0x90)
                if self.base is not None:
                    word = self._words(src, np.arange(n - 3, dtype=np.int64))
                    self.pointer_at[: n - 3] = (word >= self.base) & (word < sites.limit)
        self.candidate_at = self.branch_at | self.pointer_at

    @staticmethod
    def _words(data: np.ndarray, at: np.ndarray) -> np.ndarray:
        return (data[at].astype(np.int64) | data[at + 1].astype(np.int64) << 8
                | data[at + 2].astype(np.int64) << 16 | data[at + 3].astype(np.int64) << 24)

    def encode(self, diff: np.ndarray, s: int, e: int, o: int) -> None:
        """Overwrite ``diff`` (uint8, target ``[s, e)``) at every site with ``V - P``."""
        if e - s < 4:
            return
        t = np.flatnonzero(self.candidate_at[s + o : e - 3 + o]) + s
        window_end = np.minimum(e, (t // WINDOW + 1) * WINDOW)
        t = t[((t & 1) == 0) & (t + 4 <= window_end)]
        if not len(t):
            return
        q = t + o
        src, tgt = self.src, self.tgt
        if self.kind == TRANSFORM_AARCH64:
            keep = (t & 3) == 0
            t, q = t[keep], q[keep]
            w = self._words(src, q)
            imm = w & 0x3FFFFFF
            imm = np.where(imm & (1 << 25), imm - (1 << 26), imm)
            dest = _mapped(self.starts, self.deltas, q + 4 * imm)
            pred = (w & 0xFC000000) | (((dest - t) >> 2) & 0x3FFFFFF)
            self._store(diff, s, t, self._words(tgt, t) - pred)
            return
        branch = self.branch_at[q]
        pointer = ~branch & ((t & 3) == 0) & self.pointer_at[q]
        keep = branch | pointer
        t, q, is_ptr = t[keep], q[keep], pointer[keep]
        chosen = _select(t, t // WINDOW)
        t, q, is_ptr = t[chosen], q[chosen], is_ptr[chosen]
        b0, b1, b2, b3 = (src[q + k].astype(np.int64) for k in range(4))
        op, imm = _thumb(b0, b1, b2, b3)
        dest = _mapped(self.starts, self.deltas, q + 4 + 2 * imm)
        pred = (op << 24) | (((dest - t - 4) >> 1) & _M24)
        t0, t1, t2, t3 = (tgt[t + k].astype(np.int64) for k in range(4))
        op_t, imm_t = _thumb(t0, t1, t2, t3)
        actual = (op_t << 24) | (imm_t & _M24)
        if is_ptr.any():
            base = self.base or 0
            word = b0 | b1 << 8 | b2 << 16 | b3 << 24
            pred = np.where(is_ptr, (_mapped(self.starts, self.deltas, word - base) + base) & _M32,
                            pred)
            actual = np.where(is_ptr, t0 | t1 << 8 | t2 << 16 | t3 << 24, actual)
        self._store(diff, s, t, actual - pred)

    @staticmethod
    def _store(diff: np.ndarray, s: int, t: np.ndarray, value: np.ndarray) -> None:
        d = (value & _M32).astype("<u4").view(np.uint8).reshape(-1, 4)
        i = t - s
        for k in range(4):
            diff[i + k] = d[:, k]
