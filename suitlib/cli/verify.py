"""`suit verify ENVELOPE --key PUB.pem …`: exit 0 valid, 1 rejected, 2 bad input."""

from __future__ import annotations

import json

import click

from suitlib.cli.keyfiles import load_trust_anchors, read_envelope
from suitlib.cose import Threshold, TrustAnchors
from suitlib.errors import InputError
from suitlib.manifest.auth import verify_envelope


@click.command()
@click.argument("envelope_file", metavar="ENVELOPE")
@click.option("-k", "--key", "keys", multiple=True, metavar="PUB", help="Trusted public key (PEM or COSE_Key); repeatable.")
@click.option("--threshold", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many distinct trusted keys must have signed.")
@click.option("--allow-unsigned", is_flag=True, help="Accept an envelope without signatures (digests still checked).")
@click.option("--allow-unknown-members", is_flag=True, help="Accept unknown envelope members nothing authenticates.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(envelope_file: str, keys: tuple[str, ...], threshold: int, allow_unsigned: bool,
           allow_unknown_members: bool, fmt: str) -> None:
    """Check ENVELOPE's manifest digest, severed members and signatures against trusted keys."""
    if not keys and not allow_unsigned:
        raise InputError("no trusted key given", hint="pass --key PUB.pem (repeatable)")
    anchors = TrustAnchors(load_trust_anchors(keys))
    _, env = read_envelope(envelope_file)
    verified = verify_envelope(env, anchors, allow_unsigned=allow_unsigned,
                               allow_unknown_members=allow_unknown_members, policy=Threshold(threshold))
    manifest = env.manifest
    if fmt == "json":
        click.echo(json.dumps({
            "valid": True,
            "sequence-number": manifest.sequence_number,
            "manifest-digest": env.authentication.digest.value.hex(),
            "signers": [
                {"block": v.index, "alg": v.alg.cose_name, "kid": v.kid.hex() if v.kid is not None else None,
                 "key": v.anchor.label}
                for v in verified
            ],
        }, indent=2))
        return
    if not verified:
        click.echo(f"valid (unsigned, allowed): sequence number {manifest.sequence_number}")
        return
    who = ", ".join(
        f"{v.anchor.label} ({v.alg.cose_name}{', kid ' + repr(v.kid) if v.kid is not None else ''}, block {v.index})"
        for v in verified)
    click.echo(f"valid: sequence number {manifest.sequence_number}, signed by {who}")
