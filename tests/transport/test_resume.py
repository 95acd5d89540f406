"""The download position in flash: torn-write-safe records and power cuts mid-download."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.flash import FaultPlan, FlashEmulator, Geometry, PowerLoss
from suitlib.transport.blockwise import Position
from suitlib.transport.download import Downloader, FlashSink
from suitlib.transport.resume import RECORD_SIZE, FlashResumeStore, ResumeRecord
from tests.helpers.blockwise_sim import SimServer, run

TID = b"payload1"
SECTOR = 1024
PAYLOAD = random.Random(5).randbytes(3000)

# Layout of the small test part: 4 sectors of download region, then 2 sectors of resume log.
REGION = (0, 4 * SECTOR)
LOG = (4 * SECTOR, 2 * SECTOR)


def make_flash(write_unit: int = 8, **kw: object) -> FlashEmulator:
    return FlashEmulator(Geometry.uniform(8 * SECTOR, SECTOR, write_unit=write_unit, **kw))


@given(
    st.integers(0, 2**32 - 2),
    st.one_of(st.none(), st.binary(max_size=8)),
    st.one_of(st.none(), st.integers(0, 2**32 - 2)),
    st.integers(0, 6),
)
def test_record_roundtrip_and_any_corruption_is_rejected(offset, etag, size, szx) -> None:  # type: ignore[no-untyped-def]
    rec = ResumeRecord(TID, Position(offset, etag, size, szx), seq=7)
    raw = rec.encode()
    assert len(raw) == RECORD_SIZE
    assert ResumeRecord.decode(raw) == rec
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        assert ResumeRecord.decode(bytes(bad)) is None


@given(st.binary(max_size=60))
def test_record_decode_of_random_bytes_is_none_or_valid(raw: bytes) -> None:
    rec = ResumeRecord.decode(raw)
    assert rec is None or ResumeRecord.decode(rec.encode()) == rec


@pytest.mark.parametrize("write_unit,erase_value,limit", [(1, 0xFF, None), (8, 0xFF, 1), (16, 0x00, None)])
def test_store_keeps_newest_across_half_switches(write_unit: int, erase_value: int, limit: int | None) -> None:
    flash = make_flash(write_unit, erase_value=erase_value, program_limit=limit)
    store = FlashResumeStore(flash, *LOG)
    assert store.load() is None
    for i in range(3 * store.slots_per_half + 5):  # crosses both halves several times
        store.save(TID, Position(i * 64, b"etag", 3000, 2))
        got = store.load(TID)
        assert got is not None and got.position.offset == i * 64
    assert store.load(b"another!") is None
    store.clear()
    assert store.load() is None


@pytest.mark.parametrize("limit", [None, 1])
@pytest.mark.parametrize("torn", [None, "prefix", "bits", "all-but-last"])
def test_power_cut_at_every_op_of_record_saves(torn: str | None, limit: int | None) -> None:
    """After a cut anywhere, the store holds the last completed record or the new one."""
    base = make_flash(8, program_limit=limit)
    store = FlashResumeStore(base, *LOG)
    saves = 2 * store.slots_per_half + 3
    probe = make_flash(8, program_limit=limit)
    pstore = FlashResumeStore(probe, *LOG)
    for i in range(saves):
        pstore.save(TID, Position(i, None, None, 6))
    total_ops = probe.ops
    for cut in range(total_ops):
        flash = make_flash(8, program_limit=limit)
        flash.arm(FaultPlan.cut(cut, torn=torn, seed=cut))
        st_ = FlashResumeStore(flash, *LOG)
        done = -1
        try:
            for i in range(saves):
                st_.save(TID, Position(i, None, None, 6))
                done = i
        except PowerLoss:
            pass
        flash.power_cycle()
        flash.arm(None)
        got = FlashResumeStore(flash, *LOG).load(TID)
        offsets = {done, done + 1} if done >= 0 else {0}
        if got is None:
            assert done == -1, f"cut={cut}: lost the record"
        else:
            assert got.position.offset in offsets, f"cut={cut}: {got.position.offset} not in {offsets}"
        # and the store keeps working after the cut
        st2 = FlashResumeStore(flash, *LOG)
        st2.save(TID, Position(999, None, None, 6))
        assert st2.load(TID).position.offset == 999  # type: ignore[union-attr]


def _download(flash: FlashEmulator, *, szx: int, window: int, seed: int) -> Downloader:
    store = FlashResumeStore(flash, *LOG)
    sink = FlashSink(flash, *REGION)
    dl = Downloader.start(sink, store=store, transfer_id=TID, szx=szx, window=window, checkpoint=128)
    run(dl, SimServer(PAYLOAD), rng=random.Random(seed))
    return dl


@pytest.mark.parametrize("torn", [None, "prefix", "bits"])
@pytest.mark.parametrize("write_unit,limit", [(8, None), (16, 1)])
def test_power_cut_at_every_flash_op_of_a_download_resumes(torn: str | None, write_unit: int, limit: int | None) -> None:
    """Cut the power at each flash operation of a download; reboot; resume; byte-exact.

    Resumes must continue from the stored position (not from zero) once a record exists.
    """
    probe = make_flash(write_unit, program_limit=limit)
    _download(probe, szx=2, window=3, seed=0)
    assert probe.dump(0, len(PAYLOAD)) == PAYLOAD
    total = probe.ops
    resumed_later = 0
    for cut in range(total):
        flash = make_flash(write_unit, program_limit=limit)
        flash.arm(FaultPlan.cut(cut, torn=torn, seed=cut))
        with pytest.raises(PowerLoss):
            _download(flash, szx=2, window=3, seed=0)
        flash.power_cycle()
        flash.arm(None)
        rec = FlashResumeStore(flash, *LOG).load(TID)
        dl = _download(flash, szx=2, window=3, seed=cut)
        assert flash.dump(0, len(PAYLOAD)) == PAYLOAD, f"cut={cut} torn={torn}"
        assert dl.machine.offset == len(PAYLOAD)
        if rec is not None and rec.position.offset > 0:
            assert dl.machine.resume is not None
            floor = rec.position.offset if limit is None else rec.position.offset // SECTOR * SECTOR
            assert dl.machine.resume.offset >= floor // write_unit * write_unit
            resumed_later += dl.machine.resume.offset > 0
    assert resumed_later > total // 2  # most cuts resume mid-way rather than from zero


def test_finished_download_is_not_fetched_again() -> None:
    flash = make_flash(8)
    _download(flash, szx=4, window=1, seed=0)
    store = FlashResumeStore(flash, *LOG)
    dl = Downloader.start(FlashSink(flash, *REGION), store=store, transfer_id=TID, szx=4)
    assert dl.machine.offset == len(PAYLOAD)
    server = SimServer(PAYLOAD)
    n = run(dl, server)
    assert n == 1  # one request confirms the ETag and the end
