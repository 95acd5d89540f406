"""`suit sim mote|fleet`: simulated motes against an update server (suitlib.sim).

``suit sim mote`` runs one mote as a process: its flash lives in a file (``--flash``), so a
killed process, like a power cut, resumes from what the flash holds. ``suit sim fleet`` runs a
server and many motes in one event loop over a lossy link and prints a summary table.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from suitlib.cli.files import read_input, write_atomic
from suitlib.errors import InputError
from suitlib.sim.errors import SimulationError

SELFTESTS = ("pass", "fail", "hang")


@click.group()
def sim() -> None:
    """Simulated motes: one (`mote`) or a fleet (`fleet`)."""


@sim.command()
@click.option("--profile", default="nrf52840", show_default=True, help="Device profile (firmware-sim/profiles).")
@click.option("--server", required=True, help="Update server, e.g. coap://127.0.0.1:5683.")
@click.option("--trust", "trust", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Trust anchor: a public key PEM (repeatable).")
@click.option("--flash", "flash_file", type=click.Path(dir_okay=False),
              help="Flash image file: loaded if it exists, written back when the mote stops.")
@click.option("--image", type=click.Path(dir_okay=False), help="Factory image (for a new flash).")
@click.option("--envelope", type=click.Path(dir_okay=False), help="Signed envelope of the factory image.")
@click.option("--device-id", default="mote-1", show_default=True)
@click.option("--class", "device_class", default=None, help="Device class name (default: the profile name).")
@click.option("--self-test", "selftest", type=click.Choice(SELFTESTS), default="pass", show_default=True,
              help="What the self-test of a new image does.")
@click.option("--cut-op", type=int, default=None, help="Cut the power before this flash operation (this run).")
@click.option("--cut-block", type=int, default=None, help="Cut the power when this many payload blocks arrived.")
@click.option("--block-size", type=click.Choice(["64", "128", "256", "512", "1024"]), default="1024",
              show_default=True)
@click.option("--poll", type=float, default=0.0, show_default=True,
              help="Keep polling the server every POLL seconds until interrupted (0: settle once and exit).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def mote(profile: str, server: str, trust: tuple[str, ...], flash_file: str | None, image: str | None,
         envelope: str | None, device_id: str, device_class: str | None, selftest: str, cut_op: int | None,
         cut_block: int | None, block_size: str, poll: float, fmt: str) -> None:
    """Boot one mote, let its agent update it from SERVER, print the outcome.

    A new flash (no --flash, or a missing file) is factory-programmed with --image and
    --envelope first. Exit status: 0 updated or nothing to do, 1 refused or reverted, 3 the
    server could not be reached (run again: the download continues).
    """
    from suitlib.cose import load_public_pem
    from suitlib.flash import FaultPlan, FlashEmulator, load_profile
    from suitlib.manifest import decode_envelope
    from suitlib.sim.mote import Mote

    prof = load_profile(profile)
    anchors = [load_public_pem(read_input(p, what="trust anchor")) for p in trust]
    flash = FlashEmulator.from_profile(prof)
    fresh = True
    if flash_file and Path(flash_file).exists():
        data = read_input(flash_file, what="flash image")
        if len(data) != flash.size:
            raise InputError(f"flash image has {len(data)} bytes; the {profile} flash has {flash.size}")
        flash.load(0, data)
        fresh = False
    mote_ = Mote(prof, server, anchors, device_id=device_id, device_class=device_class, flash=flash,
                 selftest=lambda _image: selftest, szx=(int(block_size).bit_length() - 5), cut_at_block=cut_block,
                 on_event=lambda m, ev: click.echo(f"{ev.t:7.2f}s {ev.kind} {ev.detail}", err=True))
    if fresh:
        if not image or not envelope:
            raise InputError("a new flash needs --image and --envelope", hint="or pass --flash FILE of an earlier run")
        env = read_input(envelope, what="envelope")
        mote_.provision(read_input(image, what="image"), env, int(decode_envelope(env).manifest.sequence_number))
    if cut_op is not None:
        flash.arm(FaultPlan.cut(flash.ops + cut_op))
    async def life() -> str:
        outcome = await mote_.run()
        while poll > 0:
            await asyncio.sleep(poll)
            outcome = await mote_.run()
            if flash_file:
                write_atomic(Path(flash_file), flash.dump())
        return outcome

    try:
        outcome = asyncio.run(life())
    except KeyboardInterrupt:
        outcome = mote_.state().outcome or "idle"
    finally:
        if flash_file:
            write_atomic(Path(flash_file), flash.dump())
    state = mote_.state()
    result = {"device": device_id, "outcome": outcome, "reason": state.reason, "boots": mote_.stats.boots,
              "power_cuts": mote_.stats.power_cuts, "payload_bytes": mote_.stats.payload_bytes,
              "blocks": mote_.stats.blocks, "retransmissions": mote_.stats.retransmissions,
              "sequence": state.sequence}
    if fmt == "json":
        click.echo(json.dumps(result, sort_keys=True))
    else:
        click.echo(" ".join(f"{k}={v}" for k, v in result.items()))
    if outcome == "retry":
        sys.exit(3)  # the server or the link failed; nothing is lost, run again later
    if outcome not in ("updated", "idle"):
        sys.exit(1)


@sim.command()
@click.option("-n", "--motes", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--loss", default=0.1, show_default=True, type=click.FloatRange(0.0, 0.9))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--target", default="nrf52840", show_default=True, help="Device class the campaign targets.")
@click.option("--old", "old_path", type=click.Path(dir_okay=False), help="Old image (default: a corpus pair).")
@click.option("--new", "new_path", type=click.Path(dir_okay=False), help="New image.")
@click.option("--fail-share", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Share of updating motes whose new image fails its self-test.")
@click.option("--cut-share", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Share of updating motes whose power is cut once.")
@click.option("--ack-timeout", default=0.5, show_default=True, type=float, help="CoAP ACK_TIMEOUT (s).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def fleet(motes: int, loss: float, seed: int, target: str, old_path: str | None, new_path: str | None,
          fail_share: float, cut_share: float, ack_timeout: float, fmt: str) -> None:
    """One server, many motes (mixed profiles and versions), one campaign, a lossy link."""
    from suitlib.sim.fleet import FleetConfig, run_fleet

    if (old_path is None) != (new_path is None):
        raise InputError("give both --old and --new, or neither")
    if old_path is None:
        from suitlib.sim.fleet import default_pair

        old, new = default_pair()
    else:
        old, new = read_input(old_path, what="old image"), read_input(new_path, what="new image")  # type: ignore[arg-type]
    cfg = FleetConfig(motes=motes, loss=loss, seed=seed, target=target, old=old, new=new,
                      fail_share=fail_share, cut_share=cut_share, ack_timeout=ack_timeout)

    def progress(done: int, total: int) -> None:
        if fmt == "text" and (done % max(1, total // 10) == 0 or done == total):
            click.echo(f"  {done}/{total} motes settled", err=True)

    result = asyncio.run(run_fleet(cfg, progress=progress))
    summary = {
        "motes": motes, "loss": loss, "updated": result.count("updated"), "reverted": result.count("reverted"),
        "failed": result.count("failed"), "not_offered_or_current": result.count("current"),
        "power_cuts": sum(m.cuts for m in result.motes), "bytes_on_air": result.air_bytes,
        "datagrams": result.air_datagrams, "dropped": result.dropped, "payload_bytes": result.payload_bytes,
        "retransmissions": result.retransmissions, "server_reports": result.server_reports,
        "seconds": round(result.seconds, 2), "problems": result.problems,
    }
    if fmt == "json":
        click.echo(json.dumps(summary, sort_keys=True))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"fleet of {motes} motes, {loss:.0%} loss, campaign for {target}")
        table.add_column("")
        table.add_column("", justify="right")
        for key, value in summary.items():
            if key != "problems":
                table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
        Console(file=sys.stdout).print(table)
        for problem in result.problems:
            click.echo(f"problem: {problem}", err=True)
    if result.problems:
        raise SimulationError(f"{len(result.problems)} mote(s) did not end as expected")
