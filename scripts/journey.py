#!/usr/bin/env python3
"""The whole journey of an update, narrated (``make demo``).

1. The manufacturer: ``suit keygen``; two real firmware versions from the shared corpus;
   ``suit delta make``; ``suit create`` from YAML specs (digests and sizes from the files);
   ``suit sign``; ``suit publish`` into an update server store.
2. The update server (``suitlib.server.UpdateServer``) on loopback UDP.
3. A simulated nRF52840 mote running v1 polls its manifest, streams the signed delta through the
   SUIT processor into its staging slot, swaps, self-tests, confirms and reports — while its
   power is cut once mid-download (at a network block) and once mid-swap (at a flash
   operation). After each cut the mote knows only what its flash holds.
4. A second update (v3, built for another board) fails its self-test: the bootloader reverts
   it and the mote reports the failure.

Outputs go to ``demo-out/journey/`` (keys, specs, envelopes, patch, server store, and
``flash.svg``: the mote's slots over time). Exits non-zero as soon as a step does not end as
narrated.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.panel import Panel  # noqa: E402
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from suitlib.bootloader import ReferenceBootloader  # noqa: E402
from suitlib.cose import load_public_pem  # noqa: E402
from suitlib.delta.checkpoint import CheckpointLog  # noqa: E402
from suitlib.flash import FaultPlan, FlashEmulator, load_profile  # noqa: E402
from suitlib.processor import decode_report  # noqa: E402
from suitlib.server.app import ServerLimits, UpdateServer  # noqa: E402
from suitlib.sim.flashview import PrefixFlash  # noqa: E402
from suitlib.sim.manufacturer import (  # noqa: E402
    DELTA_FORMAT, DELTA_SOURCE_COMPONENT, DELTA_SOURCE_DIGEST, class_id, vendor_id)
from suitlib.sim.mote import Mote  # noqa: E402
from suitlib.sim.picture import SlotPainter  # noqa: E402

SHARED = Path(os.environ.get("SUITLIB_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "firmware"
PAIR = "mbed-blinky-k64f"           # v1 -> v2: Mbed OS blinky for the FRDM-K64F, two builds
WRONG_BOARD = "simba-due-programmer-0.8.0-to-0.9.0"   # v3: firmware for another board
PROFILE = "nrf52840"
SZX = 3                              # 128-byte blocks, as on an 802.15.4 link
OUT = REPO / "demo-out" / "journey"

console = Console(highlight=False, stderr=False)


class JourneyFailed(Exception):
    pass


def expect(ok: bool, what: str) -> None:
    if not ok:
        raise JourneyFailed(what)
    console.print(f"  [green]✓[/green] {what}")


def step(title: str) -> None:
    console.print()
    console.rule(f"[bold]{title}")


def suit(*args: str) -> str:
    """Run the real `suit` command; its stdout, or JourneyFailed with its stderr."""
    cmd = [sys.executable, "-m", "suitlib", *args]
    console.print(f"  [dim]$ suit {' '.join(str(a) for a in args)}[/dim]")
    proc = subprocess.run(cmd, cwd=OUT, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise JourneyFailed(f"`suit {' '.join(args)}` exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def spec_yaml(sequence: int, image: str, uri: str, *, source: str | None = None) -> str:
    """A release of ``image``; with ``source`` the payload is a patch from that image, which
    the mote runs: component 1 names it (specs/SUIT-PROFILE.md §8)."""
    components, extra = '[["00"]]', ""
    if source is not None:
        digest = hashlib.sha256((OUT / source).read_bytes()).hexdigest()
        components = '[["00"], ["01"]]   # 0: the staging slot, 1: the running image (the patch source)'
        extra = (f'\n        "{DELTA_FORMAT}": 1           # suitlib-parameter-delta-format: a suitlib patch'
                 f'\n        "{DELTA_SOURCE_COMPONENT}": 1           # suitlib-parameter-delta-source-component: [01]'
                 f'\n        "{DELTA_SOURCE_DIGEST}": [-16, {{bstr: {digest}}}]  # suitlib-parameter-delta-source-digest: {source}')
    return f"""\
# {image} for the {PROFILE} class, sequence {sequence}{f' (delivered as a delta from {source})' if source else ''}
suit-manifest:
  suit-manifest-version: 1
  suit-manifest-sequence-number: {sequence}
  suit-common:
    suit-components: {components}
    suit-shared-sequence:
      - suit-directive-override-parameters:
          suit-parameter-vendor-identifier: {vendor_id()}
          suit-parameter-class-identifier: {class_id(PROFILE)}
          suit-parameter-image-digest: {{file: {image}}}
          suit-parameter-image-size: {{file: {image}}}
      - suit-condition-vendor-identifier: 15
      - suit-condition-class-identifier: 15
  suit-validate: [{{suit-condition-image-match: 15}}]
  suit-invoke: [{{suit-directive-invoke: 2}}]
  suit-install:
    - suit-directive-override-parameters:
        suit-parameter-uri: {uri}{extra}
    - suit-directive-fetch: 2
    - suit-condition-image-match: 15
"""


def make_release(name: str, sequence: int, image: str, payload: str, *, source: str | None = None) -> Path:
    digest = hashlib.sha256((OUT / payload).read_bytes()).hexdigest()
    (OUT / f"{name}.yaml").write_text(spec_yaml(sequence, image, f"/suit/payload/{digest}", source=source))
    suit("create", f"{name}.yaml", "-o", f"{name}.unsigned.suit")
    suit("sign", f"{name}.unsigned.suit", "-k", "key.pem", "-o", f"{name}.suit")
    return OUT / f"{name}.suit"


def swap_ops(mote: Mote) -> int:
    """Flash operations the next boot's swap takes (measured on a copy of the flash)."""
    copy = FlashEmulator.from_profile(mote.profile)
    copy.load(0, mote.flash.dump())
    bl = ReferenceBootloader("swap", verifier=mote.bootloader.verifier)
    bl.boot(PrefixFlash(copy, mote.boot_flash.size))
    return copy.ops


NARRATION = {
    "boot": "boots: {detail}",
    "install": "got its manifest ({detail}); the processor authenticates it and runs suit-install",
    "swap-requested": "image verified in the staging slot; envelope and header written; test swap requested; reset",
    "self-test": "new firmware running as a trial; self-test: {detail}",
    "confirmed": "self-test passed: image confirmed",
    "reverted": "the trial image never confirmed: the bootloader swapped the old image back",
    "reported": "SUIT report posted to the server ({detail})",
    "refused": "refused: {detail}",
    "resumed": "resumes its download: {detail}",
    "transfer-failed": "transfer failed ({detail}); it will continue at the next poll",
    "power-cut": "[bold red]POWER CUT[/bold red] ({detail})",
}


async def run_mote(mote: Mote, painter: SlotPainter, progress: Progress, payload_size: int, label: str) -> str:
    task = progress.add_task(label, total=payload_size)

    def on_progress(received: int, total: int | None) -> None:
        progress.update(task, completed=received, total=total or payload_size)

    mote.on_progress = on_progress
    try:
        return await mote.run()
    finally:
        progress.update(task, visible=True)


async def journey() -> None:
    t_start = time.monotonic()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    profile = load_profile(PROFILE)

    step("1. Manufacturer: keys")
    suit("keygen", "-o", "key.pem")
    expect((OUT / "key.pem").exists() and (OUT / "key.pub.pem").exists(), "P-256 signing key pair written (key.pem, key.pub.pem)")
    anchor = load_public_pem((OUT / "key.pub.pem").read_bytes())

    step("2. Manufacturer: two real firmware versions and a delta")
    old = (CORPUS / PAIR / "old.bin").read_bytes()
    new = (CORPUS / PAIR / "new.bin").read_bytes()
    wrong = (CORPUS / WRONG_BOARD / "new.bin").read_bytes()
    for name, data in (("v1.bin", old), ("v2.bin", new), ("v3.bin", wrong)):
        (OUT / name).write_bytes(data)
    console.print(f"  v1 = {PAIR}/old.bin ({len(old):,} B), v2 = {PAIR}/new.bin ({len(new):,} B), "
                  f"v3 = {WRONG_BOARD}/new.bin ({len(wrong):,} B, built for another board)")
    suit("delta", "make", "v1.bin", "v2.bin", "-o", "v1-v2.patch", "--ram", str(profile.ram_budget))
    patch = (OUT / "v1-v2.patch").read_bytes()
    expect(len(patch) < len(new) * 0.15, f"delta v1→v2: {len(patch):,} B = {len(patch) / len(new):.1%} of the full image")

    step("3. Manufacturer: signed envelopes")
    v1 = make_release("v1", 1, "v1.bin", "v1.bin").read_bytes()
    v2 = make_release("v2", 2, "v2.bin", "v1-v2.patch", source="v1.bin").read_bytes()
    v3 = make_release("v3", 3, "v3.bin", "v3.bin").read_bytes()
    out = suit("verify", "v2.suit", "-k", "key.pub.pem")
    expect(True, f"v2.suit ({len(v2)} B) verifies: {out.strip().splitlines()[0] if out.strip() else 'ok'}")

    step("4. Update server on loopback")
    out = suit("publish", "v2.suit", "--payload", "v1-v2.patch", "--store", "store")
    console.print("  " + out.strip().replace("\n", "\n  "))
    server = UpdateServer(OUT / "store", ServerLimits(poll_interval=0.2))
    port = await server.start(("127.0.0.1", 0))
    expect(port > 0, f"CoAP server listening on coap://127.0.0.1:{port}")

    try:
        step("5. A mote on v1 gets v2 as a delta, through two power cuts")
        blocks = -(-len(patch) // (16 << SZX))
        mote = Mote(profile, f"coap://127.0.0.1:{port}", [anchor], device_id="mote-0001", szx=SZX,
                    cut_at_block=blocks // 2)
        painter = SlotPainter(mote, {"v1": (old, v1), "v2": (new, v2), "v3": (wrong, v3)})
        mote.provision(old, v1, 1)
        painter.capture(0.0, "factory: v1")
        cuts: dict[str, int] = {}

        def on_event(m: Mote, ev) -> None:  # type: ignore[no-untyped-def]
            text = NARRATION.get(ev.kind)
            if text:
                console.print(f"  [cyan]{ev.t:6.2f}s[/cyan] mote {text.format(detail=ev.detail)}")
            if ev.kind == "power-cut":
                cuts[ev.detail] = ev.ops
                if "network" in ev.detail:
                    latest = CheckpointLog(m.flash, m.checkpoint_region.offset, m.checkpoint_region.size).latest
                    done = latest.progress if latest is not None else 0
                    console.print(f"           flash holds a delta checkpoint: {done:,} B of v2 already "
                                  "written; the patch is fetched again and the applier fast-forwards")
                else:
                    st = m.bootloader.status(m.boot_flash)
                    console.print(f"           flash holds a swap in progress: {st.in_progress}; the "
                                  "next boot resumes it from the trailer's progress records")
            if ev.kind == "swap-requested" and not any("flash op" in k for k in cuts) and m.stats.power_cuts == 1:
                n = swap_ops(m)
                m.flash.arm(FaultPlan.cut(m.flash.ops + n // 2))
                console.print(f"           (the swap takes {n} flash operations; power will fail at the {n // 2}th)")
            painter.capture(ev.t, ev.kind + (f" {ev.detail}" if ev.kind in ("self-test", "boot") else ""))

        mote.on_event = on_event
        with Progress(TextColumn("  {task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            outcome = await run_mote(mote, painter, progress, len(patch), "v1→v2 patch")
        expect(outcome == "updated", "the mote reports the update done")
        expect(mote.stats.power_cuts == 2, "it lost power twice: once mid-download, once mid-swap")
        expect(mote.running_image() == new, f"the primary slot holds v2 byte for byte ({len(new):,} B)")
        expect(mote.bootloader.stored_counter(mote.boot_flash) >= 1, "anti-rollback counter in flash")
        reports = server.db.reports("mote-0001")
        body = decode_report(server.db.report_body(reports[-1]["id"])) if reports else {}
        expect(len(reports) == 1 and body.get(4) is True, "the server holds one SUIT report: success")
        first_stats = (mote.stats.payload_bytes, mote.stats.blocks, mote.stats.retransmissions, mote.stats.requests)

        step("6. v3 (built for another board) fails its self-test and is reverted")
        out = suit("publish", "v3.suit", "--payload", "v3.bin", "--store", "store")
        mote.selftest = lambda image: "fail" if image == wrong else "pass"
        before = mote.stats.payload_bytes, mote.stats.blocks, mote.stats.retransmissions
        with Progress(TextColumn("  {task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as progress:
            outcome = await run_mote(mote, painter, progress, len(wrong), "v3 full image")
        expect(outcome == "reverted", "the mote reports the update reverted")
        expect(mote.running_image() == new, "it runs v2 again, byte for byte")
        expect(mote.bootloader.status(mote.boot_flash).confirmed, "v2 is the confirmed image")
        reports = server.db.reports("mote-0001")
        body = decode_report(server.db.report_body(reports[-1]["id"])) if reports else {}
        failure = body.get(4)
        expect(len(reports) == 2 and isinstance(failure, dict) and failure.get(5) == 23,
               "the server holds a second report: failed at suit-directive-invoke (self-test)")
        third = (mote.stats.payload_bytes - before[0], mote.stats.blocks - before[1], mote.stats.retransmissions - before[2])

        step("7. Bytes on air")
        table = Table(show_header=True, header_style="bold")
        for col in ("update", "payload", "size", "bytes received", "blocks", "retransmissions"):
            table.add_column(col, justify="right" if col not in ("update", "payload") else "left")
        table.add_row("v1→v2", "delta", f"{len(patch):,}", f"{first_stats[0]:,}", str(first_stats[1]), str(first_stats[2]))
        table.add_row("v1→v2", "(full image, for comparison)", f"{len(new):,}", "—", str(-(-len(new) // (16 << SZX))), "—")
        table.add_row("v2→v3", "full image", f"{len(wrong):,}", f"{third[0]:,}", str(third[1]), str(third[2]))
        console.print(table)
        console.print(f"  the delta is {len(patch) / len(new):.1%} of the full image; bytes received include "
                      "the patch prefix fetched again after the cut")
        svg = OUT / "flash.svg"
        svg.write_text(painter.svg(f"{PROFILE} mote: flash slots over time (v1 → v2 delta with two power cuts; v3 reverted)"))
        expect(svg.stat().st_size > 0, f"picture of the flash slots over time: {svg.relative_to(REPO)}")
    finally:
        await server.stop()
    console.print(Panel(f"journey complete in {time.monotonic() - t_start:.1f} s — outputs in {OUT.relative_to(REPO)}/",
                        style="green"))


def main() -> int:
    try:
        asyncio.run(journey())
    except JourneyFailed as exc:
        console.print(f"[bold red]journey failed:[/bold red] {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
