"""The flash picture tells the truth: sectors are classified by their bytes."""

from __future__ import annotations

from suitlib.sim.manufacturer import full_release
from suitlib.sim.mote import Mote
from suitlib.sim.picture import ERASED, OTHER, SlotPainter

from tests.e2e.support import KEY, corpus_pair


def test_sectors_are_classified_by_content() -> None:
    old, new = corpus_pair("mbed-blinky-k64f")
    v1, v2 = full_release(old, 1, "nrf52840", KEY), full_release(new, 2, "nrf52840", KEY)
    mote = Mote("nrf52840", "coap://unused", [KEY.public_key()])
    painter = SlotPainter(mote, {"v1": (old, v1.envelope), "v2": (new, v2.envelope)})
    mote.provision(old, v1.envelope, 1)
    frame = painter.capture(0.0, "factory")
    used = -(-(16 + len(old) + len(v1.envelope)) // 4096)
    assert frame.primary[:used] == ("v1",) * used
    assert set(frame.primary[used:]) == {ERASED}
    assert set(frame.secondary) == {ERASED}
    # a candidate written into the secondary, with one sector damaged
    mote.bootloader.write_candidate(mote.boot_flash, new, v2.envelope)
    sec = mote.layout.secondary.offset + 3 * 4096
    mote.flash.program(sec + 100, b"\x00\x00\x00\x00")
    frame = painter.capture(1.0, "candidate")
    assert frame.secondary[3] == OTHER
    assert frame.secondary[:3] == ("v2",) * 3 and frame.secondary[4] == "v2"
    svg = painter.svg("t")
    assert svg.startswith("<svg") and svg.count("<rect") >= 2 * (len(frame.primary) + len(frame.secondary))
