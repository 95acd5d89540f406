"""A simulated mote: flash from a device profile, the reference bootloader, and an update agent.

Every boot starts from flash alone: :meth:`Mote.run` boots (the bootloader finishes or starts
a swap, verifies and picks the image), then the agent reads its state record and carries on —
self-test and confirm a trial image, post a pending report, or poll the server for a manifest
and install it. A :class:`~suitlib.flash.interface.PowerLoss` anywhere (a flash operation cut by
the emulator's fault plan, or a cut injected at a network block) ends the boot; the next boot
builds every object afresh, so nothing but the flash carries over. A new :class:`Mote` over the
same :class:`~suitlib.flash.FlashEmulator` continues exactly where the old one stopped.

Update agent, one install (draft-ietf-suit-manifest-34 §6, RFC 9019 §3):
GET ``/suit/manifest/<class>?dev=<id>`` → the processor authenticates and checks the envelope
and runs ``suit-install``: fetch (CoAP Block2) → [delta applier] → staging slot → image-match →
the agent writes envelope and container header (header last) → state *pending* → test swap
requested → reboot → bootloader swaps → self-test → confirm (or reboot without confirming: the
bootloader reverts) → POST ``/suit/report?dev=<id>`` (SUIT_Report).

The processor is synchronous; it runs in a worker thread (``executor``) while every network
exchange runs on the mote's event loop, so many motes share one loop (see
:mod:`suitlib.sim.fleet`). The processor thread blocks while its fetch runs on the loop; flash
is touched by one of the two at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from suitlib.bootloader import ReferenceBootloader
from suitlib.bootloader import image as container
from suitlib.bootloader.suit_verify import SuitVerifier
from suitlib.delta import Region
from suitlib.errors import SuitError, TransportError
from suitlib.flash import DeviceProfile, FlashEmulator, PowerLoss, load_profile
from suitlib.limits import DEFAULT_LIMITS
from suitlib.processor import Processor
from suitlib.processor.delta import DeltaTransformer
from suitlib.processor.report import Failure, Record, Report, ReportReason
from suitlib.sim import state as st
from suitlib.sim.flashview import PrefixFlash
from suitlib.sim.manufacturer import class_id, vendor_id
from suitlib.sim.platform import COMPONENTS, STAGING, MotePlatform, container_parts
from suitlib.transport.coap.client import CoapFetcher, Timing
from suitlib.transport.resume import FlashResumeStore

STORAGE_SECTORS = 6
"""Sectors at the top of the flash kept from the bootloader: 2 for the agent's state ring,
2 for the delta applier's checkpoints, 2 for the download resume record."""

SELFTEST_RESULTS = ("pass", "fail", "hang")
ENVELOPE_ROOM = 1024
"""Staging-slot bytes kept after the image for the envelope the agent appends."""
RETRY = "retry"
"""What :meth:`Mote.run` returns when the server could not be reached or a transfer failed:
nothing is lost, the next run (the next poll) carries on."""
INVOKE = 23  # suit-directive-invoke: the command a failed self-test is reported against


class MoteBricked(Exception):
    """The bootloader found no bootable image (must never happen)."""


class _Reboot(Exception):
    """The agent asks for a reset (after requesting a swap, or a failed/hung self-test)."""


@dataclass
class MoteStats:
    """Counters over the life of a mote object (RAM, not flash: for displays and benchmarks)."""

    boots: int = 0
    power_cuts: int = 0
    payload_bytes: int = 0
    envelope_bytes: int = 0
    blocks: int = 0
    retransmissions: int = 0
    requests: int = 0
    report_posts: int = 0


@dataclass(frozen=True)
class Event:
    """One step of the mote's life, for narration and the flash picture."""

    t: float
    kind: str
    detail: str = ""
    ops: int = 0
    """Flash operations so far (the emulator's op index) when the event happened."""


@dataclass
class Mote:
    """One simulated device. ``flash`` persists across boots and across Mote objects."""

    profile: DeviceProfile
    server: str
    trust_anchors: Sequence[Any]
    device_id: str = "mote-1"
    device_class: str | None = None
    flash: FlashEmulator | None = None
    selftest: Callable[[bytes], str] | None = None
    """Self-test of a trial image: ``"pass"``, ``"fail"`` or ``"hang"`` (default: pass)."""
    timing: Timing = field(default_factory=lambda: Timing(ack_timeout=0.5, max_retransmit=4))
    window: int = 4
    szx: int = 6
    executor: ThreadPoolExecutor | None = None
    cut_at_block: int | None = None
    """Inject a power cut when this many payload blocks have arrived (one shot)."""
    on_event: Callable[[Mote, Event], None] | None = None
    on_progress: Callable[[int, int | None], None] | None = None
    stats: MoteStats = field(default_factory=MoteStats)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.profile, str):
            self.profile = load_profile(self.profile)
        if self.device_class is None:
            self.device_class = self.profile.name
        if self.flash is None:
            self.flash = FlashEmulator.from_profile(self.profile)
        flash = self.flash
        top = flash.sectors[-STORAGE_SECTORS].offset
        self.boot_flash = PrefixFlash(flash, top)
        # boot-time check: the SUIT invocation procedure over the slot image (component 00;
        # a delta manifest also names the running image, 01, as its source)
        verifier = SuitVerifier(self.trust_anchors, vendor_id=vendor_id().bytes,
                                class_id=class_id(self.device_class).bytes, component=(b"\x00",),
                                others=((b"\x01",),))
        self.bootloader = ReferenceBootloader("swap", verifier=verifier)
        self.layout = self.bootloader.layout(self.boot_flash)
        s = flash.sectors
        self.state_region = (s[-6].offset, s[-4].offset - s[-6].offset)
        self.checkpoint_region = Region(s[-4].offset, s[-2].offset - s[-4].offset)
        self.resume_region = (s[-2].offset, flash.size - s[-2].offset)
        self.header_size = container.header_size(flash.write_unit)
        self.class_uuid = class_id(self.device_class)
        self._t0 = time.monotonic()
        self._store: st.StateStore | None = None
        self._new_sequence: int | None = None

    # --- helpers ----------------------------------------------------------------------------

    def _event(self, kind: str, detail: str = "") -> None:
        ev = Event(time.monotonic() - self._t0, kind, detail, self.flash.ops)
        self.events.append(ev)
        if self.on_event is not None:
            self.on_event(self, ev)

    def store(self) -> st.StateStore:
        """The state ring of this boot (a new object after every reset)."""
        if self._store is None:
            self._store = st.StateStore(self.flash, *self.state_region)
        return self._store

    def state(self) -> st.AgentState:
        return self.store().load() or st.AgentState()

    def running(self) -> tuple[bytes, bytes] | None:
        """(image, envelope) in the primary slot."""
        return self.bootloader.read_image(self.boot_flash, "primary")

    def running_image(self) -> bytes | None:
        r = self.running()
        return None if r is None else r[0]

    # --- factory ----------------------------------------------------------------------------

    def provision(self, image: bytes, envelope: bytes, sequence: int) -> None:
        """Factory programming: the first image, confirmed, and the agent's initial state."""
        self.bootloader.provision(self.boot_flash, image, envelope, confirmed_trailer=True)
        self.store().save(st.AgentState(sequence=sequence))
        self._event("provisioned", f"seq {sequence}, {len(image)} B")

    # --- the life of the mote ---------------------------------------------------------------

    async def run(self, *, max_boots: int = 50) -> str:
        """Boot and work until the agent has nothing left to do; returns the final outcome
        (``updated``, ``reverted``, ``refused``, ``idle``) or :data:`RETRY`."""
        for _ in range(max_boots):
            try:
                self._boot()
                while await self._agent():
                    pass  # work done without a reset (a report posted): look again
                return self.state().outcome or "idle"
            except _Reboot:
                self._event("reset")
                continue
            except TransportError as exc:
                self._event("offline", exc.message)
                return RETRY
            except PowerLoss as cut:
                self.stats.power_cuts += 1
                if not self.flash.powered:
                    self.flash.power_cycle()  # power comes back; RAM is gone
                self._event("power-cut", cut.detail if cut.op_index < 0 else f"at flash op {cut.op_index}")
                continue
        raise SuitError(f"mote {self.device_id} did not settle within {max_boots} boots")

    def _boot(self) -> None:
        flash = self.flash
        if not flash.powered:
            flash.power_cycle()
        self.stats.boots += 1
        self._store = None  # RAM is gone: nothing of the last boot is reused
        result = self.bootloader.boot(self.boot_flash)
        self._event("boot", ",".join(result.actions))
        if not result.booted:
            raise MoteBricked(f"{self.device_id}: no bootable image ({result.reason})")
        store = self.store()
        state = store.load() or st.AgentState()
        running = hashlib.sha256(result.envelope or b"").digest()
        if state.phase not in (st.PENDING, st.REQUESTED):
            return
        if running == state.envelope:
            if state.phase == st.PENDING:
                state = state.but(phase=st.REQUESTED)
                store.save(state)
            if self.bootloader.status(self.boot_flash).trial:
                verdict = (self.selftest or (lambda image: "pass"))(result.image or b"")
                self._event("self-test", verdict)
                if verdict != "pass":
                    raise _Reboot()  # a failed or hung firmware never confirms: the watchdog resets
                self.bootloader.set_confirmed(self.boot_flash)
                self._event("confirmed")
            store.save(state.but(phase=st.DONE, outcome=st.UPDATED, reason="", report=state.ok_report,
                                 reported=False))
        elif state.phase == st.PENDING:
            self.bootloader.set_pending(self.boot_flash, permanent=False)
            store.save(state.but(phase=st.REQUESTED))
            raise _Reboot()
        else:
            self._event("reverted")
            store.save(state.but(phase=st.DONE, outcome=st.REVERTED, reason="self-test failed",
                                 report=state.revert_report, reported=False))

    async def _agent(self) -> bool:
        """One agent step; True if it did something (look again), False when idle."""
        store = self.store()
        state = store.load() or st.AgentState()
        if state.phase == st.DONE and not state.reported:
            await self._post_report(state.report)
            store.save(state.but(reported=True))
            self._event("reported", state.outcome)
            return True
        envelope = await self._get_manifest()
        if envelope is None:
            return False
        digest = hashlib.sha256(envelope).digest()
        running = self.running()
        if digest in state.handled or (running is not None and hashlib.sha256(running[1]).digest() == digest):
            return False
        if state.phase != st.INSTALLING or state.envelope != digest:
            state = state.but(phase=st.INSTALLING, envelope=digest, outcome="", reason="")
            store.save(state)
        self._event("install", f"envelope {digest.hex()[:12]}, {len(envelope)} B")
        result = await self._process(envelope)
        if isinstance(result.error, TransportError):
            # the server or the link failed, not the update: keep the state and the resume
            # record (a later attempt continues the download) and try again at the next poll
            self._event("transfer-failed", result.error.message)
            raise result.error
        FlashResumeStore(self.flash, *self.resume_region).clear()  # the download is over
        if not result.ok:
            error = result.error
            reason = f"{type(error).__name__}: {error.message}" if error is not None else "refused"
            self._event("refused", reason)
            store.save(state.but(phase=st.DONE, outcome=st.REFUSED, reason=reason,
                                 report=result.report.encode(), reported=False,
                                 handled=(state.handled + (digest,))[-8:]))
            return True
        self._finalize(envelope)
        report = result.report
        failed = Report(report.manifest_digest, report.records,
                        Failure(INVOKE, Record(section=9, offset=0, component_index=0, command=INVOKE,
                                               success=False), ReportReason.OPERATION_FAILED),
                        report.reference_uri)
        state = state.but(phase=st.PENDING, ok_report=report.encode(), revert_report=failed.encode(),
                          handled=(state.handled + (digest,))[-8:],
                          sequence=self._new_sequence if self._new_sequence is not None else state.sequence)
        store.save(state)
        self.bootloader.set_pending(self.boot_flash, permanent=False)
        store.save(state.but(phase=st.REQUESTED))
        self._event("swap-requested")
        raise _Reboot()

    def _finalize(self, envelope: bytes) -> None:
        """Envelope then header into the staging slot's container (header last)."""
        flash = self.flash
        slot = self.layout.secondary
        size = self._platform_size
        header, env_off, env_bytes = container_parts(size, envelope, flash.write_unit, flash.erase_value)
        start, end = slot.offset + env_off, slot.offset + env_off + len(env_bytes)
        if start + len(env_bytes) > slot.offset + slot.capacity:
            raise SuitError("envelope does not fit the staging slot")
        image_end_sector = flash.sector_at(slot.offset + self.header_size + max(size, 1) - 1)
        for sector in flash.sectors:
            if sector.offset > image_end_sector.offset and sector.offset < end:
                flash.erase(sector.offset, sector.size)
        for addr, data in ((start, env_bytes), (slot.offset, header)):
            held = flash.read(addr, len(data))
            if held == data:
                continue
            if held != bytes([flash.erase_value]) * len(data):
                # torn by an earlier cut: start the staging slot over
                flash.erase(self.checkpoint_region.offset, self.checkpoint_region.size)
                flash.erase(slot.offset, flash.sector_at(slot.offset).size)
                raise _Reboot()
            flash.program(addr, data)

    # --- the processor ---------------------------------------------------------------------

    async def _process(self, envelope: bytes) -> Any:
        loop = asyncio.get_running_loop()
        store = self.store()
        slot, primary = self.layout.secondary, self.layout.primary
        self._new_sequence = None
        fetcher = _LoopFetcher(self, loop, hashlib.sha256(envelope).digest())

        def load() -> int | None:
            return (store.load() or st.AgentState()).sequence

        def save(value: int) -> None:
            # committed with the pending record, once the candidate is complete: a cut before
            # that must not leave the device refusing its own update as a rollback
            self._new_sequence = value

        hs = self.header_size
        running = self.running_image()
        platform = MotePlatform(
            self.flash, image_base=slot.offset + hs,
            capacity=slot.capacity - hs - ENVELOPE_ROOM, vendor=vendor_id().bytes,
            device_class=self.class_uuid.bytes, fetcher=fetcher, load_sequence=load, store_sequence=save,
            running=Region(primary.offset + hs, primary.capacity - hs),
            running_size=None if running is None else len(running),
            checkpoints=self.checkpoint_region, target_end=slot.image_sectors[-1].end)
        # specs/SUIT-PROFILE.md §8: -258 indexes the manufacturer's component order
        delta = DeltaTransformer(platform, components=COMPONENTS,
                                 limits=replace(DEFAULT_LIMITS, patch_ram=self.profile.ram_budget))
        fetcher.platform = platform
        processor = Processor(platform, self.trust_anchors, transformers=(delta,))
        result = await loop.run_in_executor(self.executor, processor.update, envelope)
        self._platform_size = platform.size(STAGING) or 0
        return result

    # --- network ---------------------------------------------------------------------------

    def _coap(self) -> CoapFetcher:
        return CoapFetcher(timing=self.timing, szx=self.szx, window=self.window)

    def resolve(self, uri: str) -> str:
        return self.server.rstrip("/") + uri if uri.startswith("/") else uri

    async def _get_manifest(self) -> bytes | None:
        uri = self.resolve(f"/suit/manifest/{self.class_uuid}?dev={self.device_id}")
        fetcher = self._coap()
        try:
            data = await fetcher.fetch_bytes(uri, window=1)
        except TransportError as exc:
            if "4.04" in str(exc.fields.get("code", "")):
                return None
            raise
        self.stats.envelope_bytes += len(data)
        return data

    async def _post_report(self, body: bytes) -> None:
        response = await self._coap().post(self.resolve(f"/suit/report?dev={self.device_id}"), body)
        if not response.code.is_successful():
            raise TransportError(f"report refused: {response.code}")
        self.stats.report_posts += 1


class _LoopFetcher:
    """The processor's (synchronous) fetcher, run in a worker thread: each fetch is a CoAP
    download on the mote's event loop, pushed chunk by chunk into the processor's sink.

    A payload written as is (no transformer) resumes after a power cut: its position is
    checkpointed in a :class:`FlashResumeStore` once the bytes are durable in the staging slot;
    on the next attempt the bytes already there are replayed from flash into the processor's
    chain (the writer lets them pass) and the transfer continues at that offset, pinned to the
    same ETag. A patch is fetched from its start again: the delta applier fast-forwards to its
    own checkpoint.
    """

    def __init__(self, mote: Mote, loop: asyncio.AbstractEventLoop, envelope_digest: bytes) -> None:
        self.mote = mote
        self.loop = loop
        self.envelope_digest = envelope_digest
        self.platform: MotePlatform | None = None

    def fetch(self, uri: str, sink: Any, *, fetch_arguments: bytes | None = None) -> None:
        future = asyncio.run_coroutine_threadsafe(self._fetch(self.mote.resolve(uri), sink), self.loop)
        future.result()

    async def _fetch(self, uri: str, sink: Any) -> None:
        mote = self.mote
        platform = self.platform
        direct = platform is not None and not platform.transformed
        chain = _ChainSink(mote, platform, sink, direct)
        store = FlashResumeStore(mote.flash, *mote.resume_region) if direct else None
        tid = hashlib.sha256(self.envelope_digest + uri.encode()).digest()[:8]
        stats = await mote._coap().fetch(uri, chain, store=store, transfer_id=tid, progress=mote.on_progress)
        mote.stats.retransmissions += stats.retransmissions
        mote.stats.requests += stats.requests
        sink.close()


class _ChainSink:
    """Download sink feeding the processor's chain; reports durable bytes, replays on resume."""

    def __init__(self, mote: Mote, platform: MotePlatform | None, sink: Any, direct: bool) -> None:
        self.mote, self.platform, self.sink, self.direct = mote, platform, sink, direct
        self.position = 0

    @property
    def committed(self) -> int:
        writer = self.platform.writer if self.platform is not None and self.direct else None
        return writer.committed if writer is not None else 0

    def prepare_resume(self, offset: int) -> int:
        platform = self.platform
        if not self.direct or platform is None or offset <= 0:
            return 0
        flash = self.mote.flash
        usable = offset // flash.write_unit * flash.write_unit
        if flash.write_once:  # a unit cannot be programmed twice: back off to the sector start
            usable = flash.sector_at(platform.image_base + usable).offset - platform.image_base
            usable = max(usable, 0)
        platform.resume_offset = usable
        for pos in range(0, usable, 4096):
            self.sink.write(flash.read(platform.image_base + pos, min(4096, usable - pos)))
        self.position = usable
        self.mote._event("resumed", f"{usable:,} B already in the staging slot; the download continues there")
        return usable

    def restart(self) -> None:
        raise TransportError("the payload changed mid-transfer (ETag)")

    def write(self, offset: int, data: bytes) -> None:
        mote = self.mote
        if offset != self.position:
            raise TransportError("payload restarted mid-transfer", offset=offset)
        mote.stats.blocks += 1
        mote.stats.payload_bytes += len(data)
        if mote.cut_at_block is not None and mote.stats.blocks >= mote.cut_at_block:
            mote.cut_at_block = None
            raise PowerLoss(-1, f"at network block {mote.stats.blocks}")
        self.sink.write(data)
        self.position += len(data)
