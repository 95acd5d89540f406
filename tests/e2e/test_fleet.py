"""A fleet over a lossy link: every mote ends on the image it should, none unbootable, and the
server's report store agrees with the motes' own states."""

from __future__ import annotations

import asyncio

import pytest

from suitlib.sim.fleet import FleetConfig, run_fleet

from tests.e2e.support import corpus_pair


def test_fleet_of_24_motes_at_10_percent_loss() -> None:
    old, new = corpus_pair("simba-due-programmer-0.8.0-to-0.9.0")
    cfg = FleetConfig(motes=24, loss=0.1, seed=7, old=old, new=new, fail_share=0.15, cut_share=0.6,
                      ack_timeout=0.2)
    result = asyncio.run(asyncio.wait_for(run_fleet(cfg), 120))
    assert result.problems == []
    assert all(m.bootable and m.image_ok for m in result.motes)
    updated, reverted = result.count("updated"), result.count("reverted")
    assert updated >= 5 and reverted >= 1 and result.count("failed") == 0
    assert sum(m.cuts for m in result.motes) >= 3  # power really was cut
    assert result.dropped > 0  # and the link really lost datagrams
    # one report per mote that did something, none for the others: the store agrees
    assert result.server_reports == updated + reverted
    for m in result.motes:
        results = [r[4] is True for r in m.reports]
        assert results == {"updated": [True], "reverted": [False], "current": []}[m.outcome], m


@pytest.mark.slow
def test_fleet_of_100_motes_at_10_percent_loss_with_full_sized_images() -> None:
    old, new = corpus_pair("mbed-blinky-k64f")
    cfg = FleetConfig(motes=100, loss=0.1, seed=11, old=old, new=new, fail_share=0.1, cut_share=0.5,
                      ack_timeout=0.3)
    result = asyncio.run(asyncio.wait_for(run_fleet(cfg), 600))
    assert result.problems == []
    assert result.count("failed") == 0 and result.count("updated") >= 30
    assert result.server_reports == result.count("updated") + result.count("reverted")
