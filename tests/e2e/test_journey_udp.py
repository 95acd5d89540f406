"""Server + mote over real UDP on loopback: full image and delta, a power cut at a random flash
operation of the download phase and of the swap phase (seeded), ending byte-exact on the new image
with one success report on the server."""

from __future__ import annotations

import asyncio
import random

import pytest

from suitlib.flash import FaultPlan, FlashEmulator, load_profile
from suitlib.processor import decode_report
from suitlib.sim.manufacturer import delta_release, full_release
from suitlib.sim.mote import Mote

from tests.e2e.support import KEY, corpus_pair, update_server

PAIR = "mbed-blinky-k64f"
PROFILE = "nrf52840"


def releases(kind: str, profile: str = PROFILE):
    old, new = corpus_pair(PAIR)
    first = full_release(old, 1, profile, KEY)
    if kind == "delta":
        second = delta_release(old, new, 2, profile, KEY, ram=load_profile(profile).ram_budget)
    else:
        second = full_release(new, 2, profile, KEY)
    return old, new, first, second


def phases(mote: Mote) -> tuple[tuple[int, int], tuple[int, int]]:
    """Flash-op spans of the download/apply phase and of the swap, from a clean run's events."""
    ops = {}
    for ev in mote.events:
        ops.setdefault(ev.kind, ev.ops)
    download = (ops["install"], ops["swap-requested"])
    swap_start = next(ev.ops for ev in mote.events if ev.kind == "reset")
    swap = (swap_start, ops["self-test"])
    return download, swap


async def journey(tmp_path, kind: str, seed: int, profile: str = PROFILE) -> None:
    PROFILE = profile  # noqa: N806 - the device under test
    old, new, first, second = releases(kind, profile)
    async with update_server(tmp_path, second) as server:
        server_uri = f"coap://127.0.0.1:{server.port}"
        clean = Mote(PROFILE, server_uri, [KEY.public_key()], device_id="clean")
        clean.provision(old, first.envelope, 1)
        assert await clean.run() == "updated"
        (d0, d1), (s0, s1) = phases(clean)
        assert d1 > d0 and s1 > s0

        rng = random.Random(f"{kind}:{seed}")
        cut_download, cut_swap = rng.randrange(d1 - d0), rng.randrange(s1 - s0)
        armed = {"install": cut_download, "reset": cut_swap}

        def arm(mote: Mote, ev) -> None:
            if ev.kind in armed:
                mote.flash.arm(FaultPlan.cut(mote.flash.ops + armed.pop(ev.kind)))

        flash = FlashEmulator.from_profile(PROFILE)
        mote = Mote(PROFILE, server_uri, [KEY.public_key()], device_id="cut", flash=flash, on_event=arm)
        mote.provision(old, first.envelope, 1)
        outcome = await mote.run()
        cuts = [ev for ev in mote.events if ev.kind == "power-cut"]
        assert len(cuts) == 2, (kind, seed, cut_download, cut_swap, [e.kind for e in mote.events])
        assert outcome == "updated"

        # nothing but the flash carries over: a fresh mote object over the same flash agrees
        fresh = Mote(PROFILE, server_uri, [KEY.public_key()], device_id="cut", flash=flash)
        assert await fresh.run() == "updated"
        assert fresh.running_image() == new
        assert fresh.running()[1] == second.envelope
        assert fresh.bootloader.status(fresh.boot_flash).confirmed
        assert fresh.bootloader.stored_counter(fresh.boot_flash) == 2

        reports = server.db.reports(device_id="cut")
        assert len(reports) == 1
        body = decode_report(server.db.report_body(reports[0]["id"]))
        assert body[4] is True


@pytest.mark.parametrize("kind", ["full", "delta"])
@pytest.mark.parametrize("seed", [1, 2])
def test_update_over_udp_survives_a_cut_in_each_phase(tmp_path, kind: str, seed: int) -> None:
    asyncio.run(asyncio.wait_for(journey(tmp_path, kind, seed), 60))


@pytest.mark.parametrize(("profile", "kind"), [("stm32l4", "full"), ("stm32l4", "delta"), ("nrf52832", "full")])
def test_other_parts_write_once_flash_and_a_small_part(tmp_path, kind: str, profile: str) -> None:
    """stm32l4: 2 KB pages, 8-byte ECC write-once units; nrf52832: 256 KB flash, small slots
    (its 8 KB applier budget is below what an LZMA patch needs: it takes full images)."""
    asyncio.run(asyncio.wait_for(journey(tmp_path, kind, 3, profile), 60))


async def chain(tmp_path) -> None:
    """Update after update over a staging slot that still holds the previous image."""
    old, new = corpus_pair(PAIR)
    other, _ = corpus_pair("simba-due-programmer-0.8.0-to-0.9.0")
    steps = [(full_release(new, 2, PROFILE, KEY), new), (full_release(other, 3, PROFILE, KEY), other),
             (delta_release(other, old, 4, PROFILE, KEY), old), (full_release(new, 5, PROFILE, KEY), new)]
    async with update_server(tmp_path) as server:
        from suitlib.server.publish import publish

        mote = Mote(PROFILE, f"coap://127.0.0.1:{server.port}", [KEY.public_key()], device_id="chain")
        mote.provision(old, full_release(old, 1, PROFILE, KEY).envelope, 1)
        for release, image in steps:
            publish(server.store, server.db, release.envelope, payloads=(release.payload,))
            assert await mote.run() == "updated"
            assert mote.running_image() == image
            assert mote.state().sequence == release.sequence
        assert len(server.db.reports("chain")) == len(steps)


def test_updates_in_a_row_over_a_used_staging_slot(tmp_path) -> None:
    asyncio.run(asyncio.wait_for(chain(tmp_path), 60))
