"""File helpers for the CLI: read inputs with typed errors, write outputs atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from suitlib.errors import InputError


def read_input(path: str | os.PathLike[str], *, what: str = "input", max_size: int = 1 << 30) -> bytes:
    """Read a whole input file, or raise :class:`InputError` naming it."""
    p = Path(path)
    if str(path) == "-":
        import sys

        return sys.stdin.buffer.read(max_size + 1)[: max_size + 1]
    try:
        size = p.stat().st_size
        if size > max_size:
            raise InputError(f"{what} {p} is too large ({size} bytes > {max_size})",
                             hint="pass the file this command expects; it refuses oversized input")
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found: {p}", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory: {p}", hint="pass a file, not a folder") from None
    except PermissionError:
        raise InputError(f"{what} is not readable: {p}", hint="check its permissions") from None


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The bytes go to a temporary file in the same directory, are flushed and fsynced, then
    renamed over the target. ``-`` writes to stdout.
    """
    if str(path) == "-":
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
