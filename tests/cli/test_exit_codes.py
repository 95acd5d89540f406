"""The `suit` entry point keeps every exit code a verb asks for (click returns, rather than
raises, the code of ``ctx.exit(n)`` outside standalone mode)."""

from __future__ import annotations

import click
import pytest

from suitlib.cli import main as cli_main


@click.command()
@click.argument("code", type=int)
@click.pass_context
def exiter(ctx: click.Context, code: int) -> None:
    ctx.exit(code)


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_ctx_exit_code_reaches_the_shell(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    monkeypatch.setitem(cli_main.VERBS, "exiter", f"{__name__}:exiter")
    with pytest.raises(SystemExit) as info:
        cli_main.main(["exiter", str(code)])
    assert info.value.code == code
