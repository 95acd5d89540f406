"""Content-addressed store of payloads and envelopes on the filesystem.

``DIR/payloads/<sha256-hex>`` and ``DIR/envelopes/<sha256-hex>``: the name is the SHA-256 of
the bytes, so a published object never changes and its URI can be cached and resumed forever.
Objects are written atomically (temporary file, fsync, rename) and never half-visible.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from pathlib import Path

from suitlib.cli.files import write_atomic
from suitlib.errors import InputError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def is_digest_hex(text: str) -> bool:
    return bool(_HEX64.match(text))


class ContentStore:
    """Immutable blobs by SHA-256, with a small cache of open file descriptors for reads."""

    KINDS = ("payloads", "envelopes")

    def __init__(self, root: str | os.PathLike[str], *, max_open: int = 64) -> None:
        self.root = Path(root)
        self.max_open = max_open
        self._fds: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()

    def init(self) -> None:
        for kind in self.KINDS:
            (self.root / kind).mkdir(parents=True, exist_ok=True)

    def path(self, kind: str, digest_hex: str) -> Path:
        if kind not in self.KINDS or not is_digest_hex(digest_hex):
            raise InputError(f"not a stored object: {kind}/{digest_hex}")
        return self.root / kind / digest_hex

    def put(self, kind: str, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 hex (idempotent)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(kind, digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        return digest

    def size(self, kind: str, digest_hex: str) -> int | None:
        fd_size = self._open(kind, digest_hex)
        return None if fd_size is None else fd_size[1]

    def read(self, kind: str, digest_hex: str, offset: int, length: int) -> bytes:
        fd_size = self._open(kind, digest_hex)
        if fd_size is None:
            raise InputError(f"not stored: {kind}/{digest_hex}")
        return os.pread(fd_size[0], length, offset)

    def get(self, kind: str, digest_hex: str) -> bytes | None:
        size = self.size(kind, digest_hex)
        return None if size is None else self.read(kind, digest_hex, 0, size)

    def _open(self, kind: str, digest_hex: str) -> tuple[int, int] | None:
        key = (kind, digest_hex)
        hit = self._fds.pop(key, None)
        if hit is None:
            try:
                fd = os.open(self.path(kind, digest_hex), os.O_RDONLY)
            except FileNotFoundError:
                return None
            hit = (fd, os.fstat(fd).st_size)
            while len(self._fds) >= self.max_open:
                _, (old, _) = self._fds.popitem(last=False)
                os.close(old)
        self._fds[key] = hit
        return hit

    def close(self) -> None:
        while self._fds:
            _, (fd, _) = self._fds.popitem()
            os.close(fd)
