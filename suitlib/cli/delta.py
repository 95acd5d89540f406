"""`suit delta make|apply|info`: create, apply and inspect delta patches (specs/DELTA-FORMAT.md)."""

from __future__ import annotations

import json
import re
import time

import click

from suitlib.cli.files import read_input, write_atomic
from suitlib.errors import InputError

_SIZE = re.compile(r"^\s*(0x[0-9a-fA-F]+|\d+)\s*([kKmM]?)(i?[bB])?\s*$")


def parse_size(text: str, what: str) -> int:
    """``32K``, ``32KiB``, ``32768``, ``0x8000``, ``1M`` -> bytes (InputError otherwise)."""
    m = _SIZE.match(text)
    if not m:
        raise InputError(f"{what}: cannot read {text!r} as a size", hint="e.g. 32K, 4096, 0x8000")
    value = int(m.group(1), 0)
    unit = m.group(2).upper()
    return value * {"": 1, "K": 1024, "M": 1024 * 1024}[unit]


def _log(ctx: click.Context, message: str) -> None:
    if not (ctx.obj or {}).get("quiet"):
        click.echo(message, err=True)


@click.group()
def delta() -> None:
    """Delta patches: a small, streamable update from the image a device already runs."""


@delta.command("make")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Patch file.")
@click.option("--in-place", is_flag=True, help="Single-slot patch: the new image overwrites the old.")
@click.option("--ram", default="32K", show_default=True, help="Applier RAM budget of the device.")
@click.option("--segment", default="4K", show_default=True,
              help="In-place segment size (a multiple of the device's erase sector).")
@click.option("--chunk", default="0",
              help="Target bytes per independently compressed chunk, the restart point of a resumed "
                   "download (0: 256K; a value above the image size: one chunk).")
@click.option("--max-shift", default=None, help="In-place: most slack the slot has past the image.")
@click.option("--transform", type=click.Choice(["auto", "none", "thumb2", "aarch64"]),
              default="auto", show_default=True,
              help="Branch/pointer prediction (DELTA-FORMAT §4.3); auto picks by the image.")
@click.option("--compression", type=click.Choice(["auto", "lzma", "lzss", "none"]), default="auto",
              show_default=True,
              help="auto: LZMA when its applier fits --ram, else LZSS (a ~4 KiB applier).")
@click.option("--fast", is_flag=True,
              help="Shorter LZMA match search: about half the compression time, ~3%% larger.")
@click.pass_context
def make(ctx: click.Context, old: str, new: str, output: str, in_place: bool, ram: str,
         segment: str, chunk: str, max_shift: str | None, transform: str, compression: str,
         fast: bool) -> None:
    """Make a patch that turns OLD into NEW."""
    from suitlib.delta.apply import describe
    from suitlib.delta.create import CreateOptions, create_patch

    options = CreateOptions(
        ram=parse_size(ram, "--ram"), in_place=in_place,
        segment_size=parse_size(segment, "--segment"), chunk_size=parse_size(chunk, "--chunk"),
        max_shift=parse_size(max_shift, "--max-shift") if max_shift is not None else None,
        transform={"auto": None, "none": 0, "thumb2": 1, "aarch64": 2}[transform],
        nice_len=128 if fast else 273,
        compression={"auto": None, "none": 0, "lzma": 1, "lzss": 2}[compression])
    if options.segment_size < 512 or options.segment_size & (options.segment_size - 1):
        raise InputError("--segment must be a power of two of at least 512 bytes")
    source = read_input(old, what="old image")
    target = read_input(new, what="new image")
    start = time.perf_counter()
    patch = create_patch(source, target, options)
    took = time.perf_counter() - start
    write_atomic(output, patch)
    info = describe(patch)
    kind = f"in-place (shift {info['shift']})" if info["in_place"] else "sequential"
    kind += f", transform {info['transform']}"
    _log(ctx, f"{output}: {len(patch)} bytes ({100 * len(patch) / max(1, len(target)):.1f} % of "
              f"the new image), {kind}, applier RAM {info['ram_bytes']} bytes, {took:.2f} s")


@delta.command("apply")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("patch", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="New image.")
@click.pass_context
def apply(ctx: click.Context, old: str, patch: str, output: str) -> None:
    """Apply PATCH to OLD (exit 1: OLD is not the patch's source; 2: bad patch)."""
    from suitlib.delta.apply import apply_patch

    source = read_input(old, what="old image")
    data = read_input(patch, what="patch")
    target = apply_patch(source, data)
    write_atomic(output, target)
    _log(ctx, f"{output}: {len(target)} bytes, target digest verified")


@delta.command("info")
@click.argument("patch", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def info(patch: str, fmt: str) -> None:
    """Describe PATCH's header (sizes, digests, RAM, in-place plan)."""
    from suitlib.delta.apply import describe

    data = read_input(patch, what="patch")
    desc = describe(data)
    if fmt == "json":
        click.echo(json.dumps(desc, indent=2, sort_keys=True))
        return
    width = max(len(k) for k in desc)
    for key, value in desc.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        click.echo(f"{key:<{width}}  {value}")
