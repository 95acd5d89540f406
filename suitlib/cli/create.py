"""`suit create SPEC -o ENVELOPE`: build an unsigned envelope from a YAML/JSON spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from suitlib.cli.files import read_input, write_atomic
from suitlib.cli.keyfiles import note
from suitlib.errors import InputError
from suitlib.manifest import build_envelope, encode_envelope


def load_spec(path: str) -> Any:
    """Parse a spec file: JSON for ``.json``, YAML (a JSON superset) otherwise."""
    data = read_input(path, what="spec", max_size=16 << 20)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"spec {path} is not UTF-8 text", hint="a spec is YAML or JSON text") from None
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"spec {path} is not valid JSON: line {exc.lineno}: {exc.msg}", hint="fix the JSON syntax at that line") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise InputError(f"spec {path} is not valid YAML{line}: {getattr(exc, 'problem', exc)}",
                         hint="fix the YAML syntax at that line") from None


@click.command()
@click.argument("spec", metavar="SPEC.(yaml|json)")
@click.option("-o", "--output", required=True, metavar="ENVELOPE", help="Envelope file to write ('-' = stdout).")
def create(spec: str, output: str) -> None:
    """Build an envelope from SPEC (see specs/MANIFEST-SPEC-FORMAT.md).

    `file:` references are resolved relative to the spec's directory and fill image digests,
    sizes and contents. The result is unsigned unless the spec carries signatures made for
    exactly this manifest (as `suit inspect --format json` output does); sign it with `suit sign`.
    """
    document = load_spec(spec)
    envelope = build_envelope(document, base_dir=Path(spec).resolve().parent)
    data = encode_envelope(envelope)
    write_atomic(output, data)
    digest = envelope.authentication.digest.value.hex()
    signed = f", {len(envelope.authentication.blocks)} signature(s) kept" if envelope.signed else ", unsigned"
    note(f"wrote {output}: {len(data)} bytes, sequence number {envelope.manifest.sequence_number}, "
         f"manifest digest {digest[:16]}…{signed}")
