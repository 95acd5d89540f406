"""`suit inspect ENVELOPE [--format text|json|diag]`: show what an envelope contains."""

from __future__ import annotations

import json

import click

from suitlib.cli.files import write_atomic
from suitlib.cli.keyfiles import read_envelope
from suitlib.manifest import envelope_to_spec, render_diag, render_text


@click.command(name="inspect")
@click.argument("envelope_file", metavar="ENVELOPE")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "diag"]), default="text", show_default=True,
              help="text: a summary; json: a spec that `suit create` rebuilds byte for byte; "
                   "diag: CBOR diagnostic notation with SUIT names as comments.")
@click.option("-o", "--output", default="-", show_default=True, help="Output file ('-' = stdout).")
def inspect_cmd(envelope_file: str, fmt: str, output: str) -> None:
    """Decode ENVELOPE and print it. Nothing is verified here: use `suit verify`."""
    _, env = read_envelope(envelope_file)
    if fmt == "json":
        text = json.dumps(envelope_to_spec(env), indent=2) + "\n"
    elif fmt == "diag":
        text = render_diag(env)
    else:
        text = render_text(env)
    if not text.endswith("\n"):
        text += "\n"
    write_atomic(output, text.encode())
