"""`suit publish`: put an envelope and its payloads into an update server's store."""

from __future__ import annotations

import json

import click

from suitlib.cli.files import read_input


@click.command()
@click.argument("envelope", type=click.Path(dir_okay=False))
@click.option("--payload", "payloads", multiple=True, type=click.Path(dir_okay=False),
              help="A payload file to serve at /suit/payload/<sha256> (repeatable).")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False),
              help="The server's store directory (created if missing).")
@click.option("--class", "class_id", default=None, help="Class UUID (default: read from the envelope).")
@click.option("--device", "device_id", default=None, help="Offer it to this device only.")
@click.option("--percent", default=100, show_default=True, type=click.IntRange(0, 100),
              help="Staged rollout: share of the class's devices that get it.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def publish(envelope: str, payloads: tuple[str, ...], store_dir: str, class_id: str | None,
            device_id: str | None, percent: int, fmt: str) -> None:
    """Publish ENVELOPE (and payloads) for a class or a device."""
    from suitlib.server.app import open_store
    from suitlib.server.publish import publish as do_publish

    env = read_input(envelope, what="envelope", max_size=16 << 20)
    blobs = tuple(read_input(p, what="payload") for p in payloads)
    store, db = open_store(store_dir)
    try:
        result = do_publish(store, db, env, payloads=blobs, class_id=class_id,
                            device_id=device_id, percent=percent)
    finally:
        store.close()
        db.close()
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    d = result.to_dict()
    click.echo(f"envelope {d['envelope']} (sequence {d['sequence']}) -> {d['manifest_path']}"
               + (f" for device {device_id}" if device_id else "")
               + (f" at {percent}%" if percent != 100 else ""))
    for p in d["payload_paths"]:
        click.echo(f"payload  {p}")
