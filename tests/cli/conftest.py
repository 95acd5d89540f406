"""In-process runner for `suit` verbs: the same `main()` the console script calls."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from suitlib.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def one_line_error(self) -> str:
        """The ``error:`` line, asserting the two-line ``error:``/``hint:`` shape without a traceback."""
        lines = self.err.strip().splitlines()
        assert "Traceback" not in self.err
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1, self.err
        assert lines[-2:][0].startswith("error: ") and lines[-1].startswith("hint: "), self.err
        return errors[0]


@pytest.fixture
def suit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """``suit(*args) -> Result`` running in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - main() always exits
            code = 0
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def leftovers(directory: Path) -> list[str]:
    """Temporary files an interrupted atomic write might leave behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))
