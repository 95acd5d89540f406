"""The `suit` command: one module per verb, loaded lazily.

Contract (ARCHITECTURE.md, "The CLI contract"): data on stdout, logs and progress on stderr;
exit 0 success, 1 definite rejection, 2 usage/input error, 3 transport error; errors print
``error: …`` and ``hint: …`` on stderr with no traceback unless ``--debug``.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from suitlib.errors import SuitError

# verb -> "module:attribute" of a click command or group. A verb whose module is absent is
# simply not offered.
VERBS: dict[str, str] = {
    "keygen": "suitlib.cli.keys:keygen",
    "pubkey": "suitlib.cli.keys:pubkey",
    "create": "suitlib.cli.create:create",
    "sign": "suitlib.cli.sign:sign",
    "verify": "suitlib.cli.verify:verify",
    "inspect": "suitlib.cli.inspect:inspect_cmd",
    "sever": "suitlib.cli.sever:sever",
    "encrypt": "suitlib.cli.encrypt:encrypt",
    "run": "suitlib.cli.run:run",
    "delta": "suitlib.cli.delta:delta",
    "serve": "suitlib.cli.serve:serve",
    "publish": "suitlib.cli.publish:publish",
    "report": "suitlib.cli.report:report",
    "sim": "suitlib.cli.sim:sim",
    "conformance": "suitlib.cli.conformance:conformance",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def _load(self, name: str) -> click.Command | None:
        target = VERBS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in VERBS if self._load(name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.option("-q", "--quiet", is_flag=True, help="No progress or log output on stderr.")
@click.version_option(package_name="suitlib", prog_name="suit")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """suit — build, sign, verify and deliver SUIT firmware updates."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["quiet"] = quiet


def _report(exc: SuitError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `suit` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        # without standalone mode click returns the code of ctx.exit(n) instead of exiting
        returned = cli.main(args=args, prog_name="suit", standalone_mode=False)
        if isinstance(returned, int) and not isinstance(returned, bool) and returned != 0:
            sys.exit(returned)
    except SuitError as exc:
        if debug:
            traceback.print_exc()
        _report(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc.format_message()}", err=True)
        click.echo("hint: run `suit --help` or `suit VERB --help` for usage", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:
        if debug:
            traceback.print_exc()
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        click.echo(f"error: {exc.strerror or exc}{where}", err=True)
        click.echo("hint: check the path and its permissions", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a CLI
        if debug:
            traceback.print_exc()
        click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: this is a bug in suitlib; rerun with --debug and report it", err=True)
        sys.exit(70)
    sys.exit(0)


if __name__ == "__main__":
    main()
