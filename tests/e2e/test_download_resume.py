"""A full-image download cut by a power loss continues where the flash says it stopped: the
bytes already in the staging slot are not fetched again, and the image ends byte-exact. Cuts
are swept over the whole install phase (including just after the transfer completed)."""

from __future__ import annotations

import asyncio

from suitlib.flash import FaultPlan
from suitlib.sim.manufacturer import full_release
from suitlib.sim.mote import Mote

from tests.e2e.support import KEY, corpus_pair, update_server

PROFILE = "nrf52840"
OLD, NEW = corpus_pair("mbed-blinky-k64f")


async def sweep(tmp_path) -> None:
    first, second = full_release(OLD, 1, PROFILE, KEY), full_release(NEW, 2, PROFILE, KEY)
    async with update_server(tmp_path, second) as server:
        uri = f"coap://127.0.0.1:{server.port}"
        clean = Mote(PROFILE, uri, [KEY.public_key()], device_id="clean")
        clean.provision(OLD, first.envelope, 1)
        assert await clean.run() == "updated"
        ops = {ev.kind: ev.ops for ev in clean.events}
        start, end = ops["install"], ops["swap-requested"]
        points = sorted({start + (end - start) * i // 12 for i in range(12)} | {end - 3, end - 2, end - 1})
        resumed_runs = 0
        for k, point in enumerate(points):
            mote = Mote(PROFILE, uri, [KEY.public_key()], device_id=f"m{k}")
            mote.provision(OLD, first.envelope, 1)
            offset = point - start
            mote.on_event = lambda m, ev, off=offset: (
                m.flash.arm(FaultPlan.cut(m.flash.ops + off)) if ev.kind == "install" and m.stats.power_cuts == 0
                and not any(e.kind == "install" for e in m.events[:-1]) else None)
            assert await mote.run() == "updated", (point, [e.kind for e in mote.events])
            assert mote.stats.power_cuts == 1, point
            assert mote.running_image() == NEW, point
            resumed = [e for e in mote.events if e.kind == "resumed"]
            if resumed:
                resumed_runs += 1
                already = int(resumed[0].detail.split(" B")[0].replace(",", ""))
                assert already > 0
                # what was in flash was not fetched again
                assert mote.stats.payload_bytes <= len(NEW) * 2 - already + 1024
            assert len(server.db.reports(f"m{k}")) == 1
        assert resumed_runs >= len(points) // 2  # most cuts land after some bytes were durable


def test_full_image_download_resumes_after_cuts_across_the_install(tmp_path) -> None:
    asyncio.run(asyncio.wait_for(sweep(tmp_path), 120))


async def network_cut(tmp_path) -> None:
    first, second = full_release(OLD, 1, PROFILE, KEY), full_release(NEW, 2, PROFILE, KEY)
    async with update_server(tmp_path, second) as server:
        mote = Mote(PROFILE, f"coap://127.0.0.1:{server.port}", [KEY.public_key()], cut_at_block=30)
        mote.provision(OLD, first.envelope, 1)
        assert await mote.run() == "updated"
        assert mote.running_image() == NEW
        resumed = [e for e in mote.events if e.kind == "resumed"]
        assert len(resumed) == 1
        # 29 blocks were stored before the cut; at most the last checkpoint interval is fetched again
        assert mote.stats.payload_bytes <= len(NEW) + 30 * 1024 - 27 * 1024


def test_full_image_download_resumes_after_a_cut_at_a_network_block(tmp_path) -> None:
    asyncio.run(asyncio.wait_for(network_cut(tmp_path), 60))


async def server_goes_away(tmp_path) -> None:
    """The link goes dead mid-download: the mote keeps what it has and, when the link is back,
    continues the same download instead of refusing the update."""
    from suitlib.sim.mote import RETRY
    from suitlib.sim.relay import LossyRelay
    from suitlib.transport.coap.client import Timing

    first, second = full_release(OLD, 1, PROFILE, KEY), full_release(NEW, 2, PROFILE, KEY)
    async with update_server(tmp_path, second) as server:
        relay = LossyRelay(("127.0.0.1", server.port))
        port = await relay.start()
        try:
            mote = Mote(PROFILE, f"coap://127.0.0.1:{port}", [KEY.public_key()], window=1,
                        timing=Timing(ack_timeout=0.05, max_retransmit=1, reissues=0, max_wait_separate=0.5))
            mote.provision(OLD, first.envelope, 1)

            def on_progress(received: int, total) -> None:  # type: ignore[no-untyped-def]
                if received >= 20_000:
                    relay.loss = 1.0  # every datagram is lost from here on

            mote.on_progress = on_progress
            assert await mote.run() == RETRY
            assert mote.state().phase == "installing" and mote.running_image() == OLD
            relay.loss = 0.0
            mote.on_progress = None
            assert await mote.run() == "updated"
            assert mote.running_image() == NEW
            resumed = [e for e in mote.events if e.kind == "resumed"]
            assert resumed and int(resumed[0].detail.split(" B")[0].replace(",", "")) >= 16_000
            assert len(server.db.reports()) == 1
        finally:
            relay.close()


def test_a_transfer_that_fails_is_resumed_at_the_next_poll(tmp_path) -> None:
    asyncio.run(asyncio.wait_for(server_goes_away(tmp_path), 60))
