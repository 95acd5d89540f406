"""`suit delta make|apply|info`: outputs, JSON fields and the exit-code contract
(0 success, 1 wrong source image, 2 bad patch or bad input)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from suitlib.cli.main import main

PAIR = "mbed-blinky-k64f"


def _run(*args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(["-q", *args])
    return int(exc.value.code or 0)


@pytest.fixture()
def files(tmp_path: Path, corpus_dir: Path) -> dict[str, Path]:
    return {"old": corpus_dir / PAIR / "old.bin", "new": corpus_dir / PAIR / "new.bin",
            "patch": tmp_path / "p.sdlt", "out": tmp_path / "out.bin", "dir": tmp_path}


@pytest.mark.parametrize("extra", [[], ["--in-place", "--ram", "16K", "--transform", "none"]])
def test_make_apply_info(files, capsys, extra: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert _run("delta", "make", str(files["old"]), str(files["new"]), "-o", str(files["patch"]),
                *extra) == 0
    assert _run("delta", "apply", str(files["old"]), str(files["patch"]), "-o", str(files["out"])) == 0
    assert files["out"].read_bytes() == files["new"].read_bytes()
    capsys.readouterr()
    assert _run("delta", "info", str(files["patch"]), "--format", "json") == 0
    info = json.loads(capsys.readouterr().out)
    old, new = files["old"].read_bytes(), files["new"].read_bytes()
    assert info["patch_size"] == files["patch"].stat().st_size
    assert info["source_size"] == len(old) and info["target_size"] == len(new)
    assert info["source_digest"] == hashlib.sha256(old).hexdigest()
    assert info["target_digest"] == hashlib.sha256(new).hexdigest()
    assert info["in_place"] is bool(extra)
    assert info["ram_bytes"] <= (16 if extra else 32) * 1024
    assert info["transform"] == ("none" if extra else "thumb2-branch")
    assert _run("delta", "info", str(files["patch"])) == 0
    assert "ram_bytes" in capsys.readouterr().out


def test_wrong_source_exits_1_and_writes_nothing(files, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run("delta", "make", str(files["old"]), str(files["new"]), "-o", str(files["patch"])) == 0
    capsys.readouterr()
    assert _run("delta", "apply", str(files["new"]), str(files["patch"]), "-o", str(files["out"])) == 1
    assert "another source image" in capsys.readouterr().err
    assert not files["out"].exists()


def test_bad_patch_exits_2(files, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _run("delta", "make", str(files["old"]), str(files["new"]), "-o", str(files["patch"])) == 0
    data = bytearray(files["patch"].read_bytes())
    for mutate in (lambda d: d[:len(d) // 2], lambda d: d[:3], lambda d: bytes(d[:20]) + b"x" + bytes(d[21:]),
                   lambda d: bytes(d[:-40]) + bytes(40)):
        bad = files["dir"] / "bad.sdlt"
        bad.write_bytes(bytes(mutate(data)))
        capsys.readouterr()
        assert _run("delta", "apply", str(files["old"]), str(bad), "-o", str(files["out"])) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
        assert not files["out"].exists()


def test_bad_arguments_exit_2(files) -> None:  # type: ignore[no-untyped-def]
    assert _run("delta", "make", str(files["old"]), str(files["new"]), "-o", str(files["patch"]),
                "--ram", "lots") == 2
    assert _run("delta", "make", str(files["old"]), str(files["new"]), "-o", str(files["patch"]),
                "--ram", "2K") == 2
    assert _run("delta", "apply", str(files["dir"] / "missing"), str(files["old"]),
                "-o", str(files["out"])) == 2
    assert _run("delta", "info", str(files["old"])) == 2
