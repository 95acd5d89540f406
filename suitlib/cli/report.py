"""`suit report`: what devices reported to the update server."""

from __future__ import annotations

import datetime
import json

import click


@click.group()
def report() -> None:
    """SUIT reports received by `suit serve`."""


@report.command("list")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False, exists=True))
@click.option("--device", "device_id", default=None, help="Only this device's reports.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_reports(store_dir: str, device_id: str | None, fmt: str) -> None:
    """List received reports, oldest first."""
    from suitlib.server.app import open_store

    store, db = open_store(store_dir)
    try:
        rows = db.reports(device_id)
    finally:
        store.close()
        db.close()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no reports")
        return
    for r in rows:
        when = datetime.datetime.fromtimestamp(r["received"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        fmt_name = r["summary"].get("format", "?")
        click.echo(f"{r['id']:>5}  {when}  {r['device_id'] or '-':<20} {r['address']:<16} "
                   f"{r['size']:>6} B  {fmt_name}  {r['digest'][:16]}")
