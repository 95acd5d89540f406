"""`suit sever ENVELOPE [--element NAME … | --all] -o OUT`: drop severable members (§8.4.12)."""

from __future__ import annotations

import click

from suitlib.cli.files import write_atomic
from suitlib.cli.keyfiles import note, read_envelope
from suitlib.errors import InputError
from suitlib.manifest import encode_envelope, needs_resigning, sever as sever_envelope


@click.command()
@click.argument("envelope_file", metavar="ENVELOPE")
@click.option("-e", "--element", "elements", multiple=True, metavar="NAME",
              help="Member to sever: install, text, payload-fetch, coswid, … (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Sever every severable member present (the default).")
@click.option("-o", "--output", required=True, metavar="OUT", help="Severed envelope to write ('-' = stdout).")
def sever(envelope_file: str, elements: tuple[str, ...], all_: bool, output: str) -> None:
    """Remove severable members from ENVELOPE; the manifest keeps their digests.

    Members already held as digests just leave the envelope and every signature stays valid.
    Members held inline change the manifest: the result is unsigned and must be signed again.
    """
    if all_ and elements:
        raise InputError("--all and --element exclude each other", hint="pass one of them")
    _, env = read_envelope(envelope_file)
    severed = sever_envelope(env, list(elements) if elements else None)
    data = encode_envelope(severed)
    write_atomic(output, data)
    note(f"wrote {output} ({len(data)} bytes)")
    if needs_resigning(env, severed) and env.signed:
        note("warning: inline members were replaced by digests, so the manifest changed and its "
             "signatures were dropped; sign the result again with `suit sign`")
