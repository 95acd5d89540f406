"""Cuts at every flash operation between the end of the transfer and the reset that starts the
swap (resume-record clear, envelope and header, pending record, swap request): the mote still
ends on the new image, reports once, and never refuses its own update as a rollback."""

from __future__ import annotations

import asyncio

import pytest

from suitlib.flash import FaultPlan
from suitlib.processor import decode_report
from suitlib.sim.manufacturer import delta_release, full_release
from suitlib.sim.mote import Mote

from tests.e2e.support import KEY, corpus_pair, update_server

PROFILE = "nrf52840"
OLD, NEW = corpus_pair("mbed-blinky-k64f")
TAIL = 24


async def sweep(tmp_path, kind: str) -> None:
    first = full_release(OLD, 1, PROFILE, KEY)
    second = delta_release(OLD, NEW, 2, PROFILE, KEY) if kind == "delta" else full_release(NEW, 2, PROFILE, KEY)
    async with update_server(tmp_path, second) as server:
        uri = f"coap://127.0.0.1:{server.port}"
        clean = Mote(PROFILE, uri, [KEY.public_key()], device_id="clean")
        clean.provision(OLD, first.envelope, 1)
        assert await clean.run() == "updated"
        ops = {ev.kind: ev.ops for ev in clean.events}
        span = ops["swap-requested"] - ops["install"]
        for back in range(1, min(TAIL, span) + 1):
            device = f"{kind}-{back}"
            mote = Mote(PROFILE, uri, [KEY.public_key()], device_id=device)
            mote.provision(OLD, first.envelope, 1)
            armed = [span - back]

            def arm(m: Mote, ev, armed=armed) -> None:  # type: ignore[no-untyped-def]
                if ev.kind == "install" and armed:
                    m.flash.arm(FaultPlan.cut(m.flash.ops + armed.pop()))

            mote.on_event = arm
            outcome = await mote.run()
            assert outcome == "updated", (back, mote.state().reason, [e.kind for e in mote.events])
            assert mote.stats.power_cuts == 1 and mote.running_image() == NEW, back
            assert mote.state().sequence == 2
            reports = server.db.reports(device)
            assert len(reports) == 1 and decode_report(server.db.report_body(reports[0]["id"]))[4] is True


@pytest.mark.parametrize("kind", ["full", "delta"])
def test_cuts_in_the_commit_window(tmp_path, kind: str) -> None:
    asyncio.run(asyncio.wait_for(sweep(tmp_path, kind), 120))
