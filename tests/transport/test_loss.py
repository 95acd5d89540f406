"""Transfers through a lossy relay (drops, duplicates, delays, reordering) stay byte-exact.

RFC 7252 timers are scaled down (tests.helpers.coap_server.FAST) so these run in seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from pathlib import Path

import pytest

from suitlib.flash import FaultPlan, FlashEmulator, Geometry, PowerLoss
from suitlib.transport.coap.client import CoapFetcher, FetchStats
from suitlib.transport.download import BytesSink, FlashSink
from suitlib.transport.resume import FlashResumeStore
from tests.helpers.coap_server import FAST, running_server
from tests.helpers.lossy_relay import Impairment, LossyRelay

PAYLOAD = random.Random(21).randbytes(12_000)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


async def fetch_via_relay(store: Path, imp: Impairment, *, szx: int, window: int, seed: int,
                          data: bytes = PAYLOAD) -> tuple[bytes, LossyRelay, FetchStats]:
    async with running_server(store) as srv:
        digest = srv.store.put("payloads", data)
        relay = LossyRelay(("127.0.0.1", srv.port), imp, seed=seed)
        port = await relay.start()
        try:
            sink = BytesSink()
            stats = await CoapFetcher(timing=FAST, szx=szx, window=window).fetch(
                f"coap://127.0.0.1:{port}/suit/payload/{digest}", sink)
            return sink.getvalue(), relay, stats
        finally:
            relay.close()


@pytest.mark.parametrize("loss,window,seed", [(0.10, 1, 1), (0.10, 4, 2), (0.30, 1, 3), (0.30, 4, 4)])
def test_download_survives_loss_both_ways(tmp_path: Path, loss: float, window: int, seed: int) -> None:
    data = PAYLOAD if loss < 0.2 else PAYLOAD[:6000]
    got, relay, stats = asyncio.run(asyncio.wait_for(
        fetch_via_relay(tmp_path, Impairment(loss=loss), szx=4, window=window, seed=seed, data=data), 90))
    assert got == data
    assert relay.stats.up_dropped > 0 and relay.stats.down_dropped > 0
    assert stats.retransmissions > 0
    if window > 1 and loss < 0.2:  # losses inside an open window: fast retransmit
        assert stats.fast_retransmits > 0


def test_download_survives_duplicates_delays_and_reordering(tmp_path: Path) -> None:
    imp = Impairment(loss=0.1, duplicate=0.2, delay=0.3, max_delay=0.03)
    got, relay, _ = asyncio.run(asyncio.wait_for(
        fetch_via_relay(tmp_path, imp, szx=4, window=6, seed=5), 90))
    assert got == PAYLOAD
    assert relay.stats.duplicated > 0 and relay.stats.delayed > 0


def test_report_upload_survives_loss(tmp_path: Path) -> None:
    report = random.Random(8).randbytes(2500)

    async def go() -> None:
        async with running_server(tmp_path) as srv:
            relay = LossyRelay(("127.0.0.1", srv.port), Impairment(loss=0.1, duplicate=0.1), seed=6)
            port = await relay.start()
            try:
                resp = await CoapFetcher(timing=FAST).post(
                    f"coap://127.0.0.1:{port}/suit/report?dev=lossy", report, szx=2)
            finally:
                relay.close()
            assert resp.code.is_successful()
            rows = srv.db.reports()
            assert len(rows) == 1 and srv.db.report_body(rows[0]["id"]) == report
    asyncio.run(asyncio.wait_for(go(), 90))


def test_power_cut_mid_download_then_resume_over_coap(tmp_path: Path) -> None:
    """A mote loses power while writing block data to flash; after reboot the fetch resumes
    from the record in flash, asks only for the missing blocks, and the image is byte-exact."""
    sector = 1024
    flash = FlashEmulator(Geometry.uniform(32 * sector, sector, write_unit=8))
    region, log = (0, 16 * sector), (16 * sector, 2 * sector)
    tid = bytes.fromhex(DIGEST)[:8]

    async def go() -> tuple[int, int]:
        async with running_server(tmp_path) as srv:
            srv.store.put("payloads", PAYLOAD)
            uri = f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}"
            fetcher = CoapFetcher(timing=FAST, szx=2, window=4, checkpoint=256)
            flash.arm(FaultPlan.cut(120, torn="prefix", seed=3))
            with pytest.raises(PowerLoss):
                await fetcher.fetch(uri, FlashSink(flash, *region),
                                    store=FlashResumeStore(flash, *log), transfer_id=tid)
            flash.power_cycle()
            flash.arm(None)
            stats = await fetcher.fetch(uri, FlashSink(flash, *region),
                                        store=FlashResumeStore(flash, *log), transfer_id=tid)
            return stats.resumed_from, stats.requests

    resumed_from, requests = asyncio.run(asyncio.wait_for(go(), 60))
    assert flash.dump(0, len(PAYLOAD)) == PAYLOAD
    assert resumed_from > 0
    assert requests <= -(-(len(PAYLOAD) - resumed_from) // 64) + 1
