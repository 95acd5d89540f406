"""A mote refuses what it must refuse, stays on its image and reports why: an envelope for
another class, one signed by an unknown key, one with a lower sequence number, a payload whose
digest does not match; and a new image that fails (or hangs in) its self-test is reverted."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from suitlib.cose import KeyType, PrivateKey
from suitlib.processor import ReportReason, decode_report
from suitlib.server.publish import publish
from suitlib.sim.manufacturer import Release, class_id, delta_release, full_release, make_spec, sign
from suitlib.sim.mote import INVOKE, Mote

from tests.e2e.support import KEY, corpus_pair, update_server

PROFILE = "nrf52840"
OLD, NEW = corpus_pair("mbed-blinky-k64f")


def other_class() -> Release:
    return full_release(NEW, 2, "nrf52832", KEY)


def unknown_key() -> Release:
    return full_release(NEW, 2, PROFILE, PrivateKey.generate(KeyType.P256))


def lower_sequence() -> Release:
    return full_release(NEW, 1, PROFILE, KEY)


def wrong_digest() -> Release:
    spec = make_spec(NEW, 2, PROFILE, "/suit/payload/" + hashlib.sha256(NEW).hexdigest(), delta=False,
                     image_digest=hashlib.sha256(NEW + b"x").digest())
    return Release(sign(spec, KEY), NEW, NEW, 2, False)


CASES = {
    "other-class": (other_class, ReportReason.CONDITION_FAILED, "class"),
    "unknown-key": (unknown_key, ReportReason.UNAUTHORISED, "signatureerror"),
    "lower-sequence": (lower_sequence, ReportReason.UNAUTHORISED, "rollbackerror"),
    "wrong-digest": (wrong_digest, ReportReason.CONDITION_FAILED, "digest"),
}


async def offered(tmp_path, release: Release, *, installed_sequence: int = 1, selftest=None) -> tuple[Mote, list]:
    first = full_release(OLD, installed_sequence, PROFILE, KEY)
    async with update_server(tmp_path) as server:
        # published under the mote's class whatever the envelope says: the mote must check
        publish(server.store, server.db, release.envelope, payloads=(release.payload,),
                class_id=str(class_id(PROFILE)))
        mote = Mote(PROFILE, f"coap://127.0.0.1:{server.port}", [KEY.public_key()], device_id="m",
                    selftest=selftest)
        mote.provision(OLD, first.envelope, installed_sequence)
        await mote.run()
        await mote.run()  # a second look: the same envelope is not tried again
        reports = [decode_report(server.db.report_body(r["id"])) for r in server.db.reports("m")]
        return mote, reports


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_offer_is_refused_and_reported(tmp_path, case: str) -> None:
    make, reason, words = CASES[case]
    installed = 2 if case == "lower-sequence" else 1
    mote, reports = asyncio.run(asyncio.wait_for(offered(tmp_path, make(), installed_sequence=installed), 60))
    state = mote.state()
    assert state.outcome == "refused"
    assert words in state.reason.lower(), state.reason
    assert mote.running_image() == OLD
    assert mote.bootloader.status(mote.boot_flash).confirmed
    assert len(reports) == 1
    result = reports[0][4]
    assert isinstance(result, dict) and result[7] == reason


@pytest.mark.parametrize("verdict", ["fail", "hang"])
def test_a_failed_self_test_is_reverted_and_reported(tmp_path, verdict: str) -> None:
    release = delta_release(OLD, NEW, 2, PROFILE, KEY)
    seen: list[bytes] = []

    def selftest(image: bytes) -> str:
        seen.append(image)
        return verdict

    mote, reports = asyncio.run(asyncio.wait_for(offered(tmp_path, release, selftest=selftest), 60))
    assert seen == [NEW]  # the new image did run, once, and failed
    assert mote.state().outcome == "reverted"
    assert mote.running_image() == OLD
    assert mote.bootloader.status(mote.boot_flash).confirmed
    assert mote.bootloader.stored_counter(mote.boot_flash) == 1  # never advanced to the bad image
    assert len(reports) == 1
    assert reports[0][4][5] == INVOKE and reports[0][4][7] == ReportReason.OPERATION_FAILED


def test_a_patch_needing_more_ram_than_the_device_allows_is_refused_before_any_write(tmp_path) -> None:
    # nrf52832: 8 KB applier budget; the patch is made for 32 KB
    first = full_release(OLD, 1, "nrf52832", KEY)
    release = delta_release(OLD, NEW, 2, "nrf52832", KEY, ram=32 * 1024)

    async def go():
        async with update_server(tmp_path, release) as server:
            mote = Mote("nrf52832", f"coap://127.0.0.1:{server.port}", [KEY.public_key()], device_id="small")
            mote.provision(OLD, first.envelope, 1)
            await mote.run()
            return mote, [decode_report(server.db.report_body(r["id"])) for r in server.db.reports("small")]

    mote, reports = asyncio.run(asyncio.wait_for(go(), 60))
    assert mote.state().outcome == "refused" and "DeltaRamError" in mote.state().reason
    assert mote.running_image() == OLD
    secondary = mote.layout.secondary
    # refused when the patch header arrived: nothing was written to the staging slot
    assert mote.flash.dump(secondary.offset, secondary.capacity).count(mote.flash.erase_value) == secondary.capacity
    assert len(reports) == 1 and reports[0][4][7] == ReportReason.OPERATION_FAILED


def test_a_delta_for_another_running_image_is_refused_before_the_staging_slot_is_written(tmp_path) -> None:
    # the patch itself is right for OLD, but the signed source digest (-259) names another image:
    # only the manifest check can refuse it, and it must do so before anything is fetched
    release = delta_release(OLD, NEW, 2, PROFILE, KEY, source_digest=hashlib.sha256(OLD + b"x").digest())
    mote, reports = asyncio.run(asyncio.wait_for(offered(tmp_path, release), 60))
    state = mote.state()
    assert state.outcome == "refused" and "DeltaSourceDigestError" in state.reason, state.reason
    assert mote.stats.payload_bytes == 0  # refused before the patch was fetched
    assert mote.running_image() == OLD
    assert mote.bootloader.status(mote.boot_flash).confirmed
    secondary = mote.layout.secondary
    assert mote.flash.dump(secondary.offset, secondary.capacity).count(mote.flash.erase_value) == secondary.capacity
    checkpoints = mote.checkpoint_region
    assert mote.flash.dump(checkpoints.offset, checkpoints.size).count(mote.flash.erase_value) == checkpoints.size
    assert len(reports) == 1
    assert reports[0][4][7] == ReportReason.CONDITION_FAILED


def test_a_delta_envelope_names_the_running_image_as_its_source() -> None:
    from suitlib.manifest import decode_envelope  # noqa: PLC0415

    manifest = decode_envelope(delta_release(OLD, NEW, 2, PROFILE, KEY).envelope).manifest
    assert [list(c) for c in manifest.common.components] == [[b"\x00"], [b"\x01"]]
    params = manifest.install.commands[0].argument
    assert params.get(-257) == 1 and params.get(-258) == 1
    algorithm, digest = params.get(-259)
    assert algorithm == -16 and digest == hashlib.sha256(OLD).digest()
    full = decode_envelope(full_release(NEW, 2, PROFILE, KEY).envelope).manifest
    assert [list(c) for c in full.common.components] == [[b"\x00"]]
    assert full.install.commands[0].argument.get(-257) is None
