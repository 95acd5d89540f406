"""A fleet: one update server, many motes (mixed profiles and versions) in one event loop.

A campaign targets one device class; motes of that class on the old version update (by delta),
those already current stay, motes of other classes are not offered anything. Power is cut at
random: at a random flash operation of the install, or at a random network block. Optionally a
share of the motes fail their self-test (they must revert). Every datagram between motes and
server goes through a lossy relay that counts bytes on air.

:func:`run_fleet` returns a :class:`FleetResult`: per-mote outcomes, the server's reports, and
the checks the acceptance criteria name (every mote bootable and on its expected image; one
report per mote that did something; the report store agreeing with the motes).
"""

from __future__ import annotations

import asyncio
import random
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suitlib.cose import KeyType, PrivateKey
from suitlib.flash import FaultPlan, PowerLoss
from suitlib.processor import decode_report
from suitlib.server.app import ServerLimits, UpdateServer, open_store
from suitlib.server.publish import publish
from suitlib.sim.manufacturer import Release, delta_release, full_release
from suitlib.sim.mote import INVOKE, RETRY, Mote
from suitlib.sim.relay import LossyRelay
from suitlib.transport.coap.client import Timing

DEFAULT_PROFILES = ("nrf52840", "nrf52832", "stm32l4")


@dataclass(frozen=True)
class FleetConfig:
    motes: int = 100
    loss: float = 0.1
    seed: int = 1
    target: str = "nrf52840"
    """The device class the campaign targets."""
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    target_share: float = 0.7
    """Share of the motes in the targeted class (the rest: the other profiles)."""
    current_share: float = 0.2
    """Share of target-class motes already on the new version."""
    cut_share: float = 0.5
    """Share of motes whose power is cut once at random during their update."""
    fail_share: float = 0.0
    """Share of updating motes whose new image fails its self-test."""
    ack_timeout: float = 0.3
    szx: int = 6
    window: int = 4
    old: bytes = b""
    new: bytes = b""


@dataclass
class MoteOutcome:
    device_id: str
    profile: str
    start: str
    expected: str
    outcome: str
    image_ok: bool
    bootable: bool
    cuts: int
    reports: list[Any] = field(default_factory=list)


@dataclass
class FleetResult:
    motes: list[MoteOutcome]
    seconds: float
    air_bytes: int
    air_datagrams: int
    dropped: int
    payload_bytes: int
    retransmissions: int
    server_reports: int
    server_rss_kib: int
    problems: list[str]
    duplicate_reports: int = 0
    settle_seconds: list[float] = field(default_factory=list)
    """Per mote, from wake-up to settled, sorted."""

    def count(self, outcome: str) -> int:
        return sum(1 for m in self.motes if m.outcome == outcome)


def _rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


async def run_fleet(cfg: FleetConfig, *, store: Path | None = None, server_port: int | None = None,
                    progress=None) -> FleetResult:  # type: ignore[no-untyped-def]
    """Run the fleet. With ``server_port`` the server is another process (``suit serve``) serving
    ``store``: the campaign is published into that store and the reports read back from it."""
    rng = random.Random(cfg.seed)
    key = PrivateKey.generate(KeyType.P256)
    anchors = [key.public_key()]
    releases: dict[str, tuple[Release, Release]] = {}
    for profile in cfg.profiles:
        v1 = full_release(cfg.old, 1, profile, key)
        releases[profile] = (v1, full_release(cfg.new, 2, profile, key))
    target_v2 = delta_release(cfg.old, cfg.new, 2, cfg.target, key)
    releases[cfg.target] = (releases[cfg.target][0], target_v2)

    tmp = tempfile.TemporaryDirectory() if store is None else None
    server: UpdateServer | None = None
    if server_port is None:
        server = UpdateServer(store or Path(tmp.name), ServerLimits(rate=0, poll_interval=1.0,  # type: ignore[union-attr]
                                                                       dedup_entries=200_000))
        port = await server.start(("127.0.0.1", 0))
        content, db = server.store, server.db
    else:
        if store is None:
            raise ValueError("an external server needs its store directory")
        content, db = open_store(store)
        port = server_port
    publish(content, db, target_v2.envelope, payloads=(target_v2.payload,))
    relay = LossyRelay(("127.0.0.1", port), loss=cfg.loss, seed=cfg.seed)
    relay_port = await relay.start()
    executor = ThreadPoolExecutor(max_workers=max(4, cfg.motes))
    timing = Timing(ack_timeout=cfg.ack_timeout, max_retransmit=6, reissues=6)

    motes: list[tuple[Mote, dict[str, Any]]] = []
    for i in range(cfg.motes):
        others = [p for p in cfg.profiles if p != cfg.target]
        profile = cfg.target if not others or rng.random() < cfg.target_share else rng.choice(others)
        v1, v2 = releases[profile]
        on_target = profile == cfg.target
        current = on_target and rng.random() < cfg.current_share
        fails = on_target and not current and rng.random() < cfg.fail_share
        info: dict[str, Any] = {"profile": profile, "start": "v2" if current else "v1"}
        info["expected"] = "v2" if (current or (on_target and not fails)) else "v1"
        info["outcome"] = "current" if current or not on_target else ("reverted" if fails else "updated")
        selftest = (lambda image: "fail") if fails else None
        mote = Mote(profile, f"coap://127.0.0.1:{relay_port}", anchors, device_id=f"mote-{i:04d}",
                    timing=timing, szx=cfg.szx, window=cfg.window, executor=executor, selftest=selftest)
        if current:
            mote.provision(cfg.new, v2.envelope, 2)
        else:
            mote.provision(cfg.old, v1.envelope, 1)
        if on_target and not current and rng.random() < cfg.cut_share:
            if rng.random() < 0.5:
                mote.cut_at_block = 1 + rng.randrange(max(1, len(target_v2.payload) // (16 << cfg.szx)))
            else:
                info["cut_op"] = rng.randrange(400)
        motes.append((mote, info))

    def arm(mote: Mote, ev: Any, info: dict[str, Any]) -> None:
        if ev.kind == "install" and "cut_op" in info:
            mote.flash.arm(FaultPlan.cut(mote.flash.ops + info.pop("cut_op")))

    t0 = time.monotonic()
    done = 0

    async def one(mote: Mote, info: dict[str, Any]) -> None:
        nonlocal done
        mote.on_event = lambda m, ev: arm(m, ev, info)
        await asyncio.sleep(rng.random() * 0.5)  # motes wake at different times
        started = time.monotonic()
        try:
            info["result"] = await mote.run()
            polls = 1
            while info["result"] == RETRY and polls < 6:  # the next poll, after a back-off
                await asyncio.sleep(cfg.ack_timeout * 2 ** polls)
                polls += 1
                info["result"] = await mote.run()
            info["polls"] = polls
        except (Exception, PowerLoss) as exc:  # noqa: BLE001 - a failed mote is counted, not fatal
            info["result"] = "failed"
            info["error"] = f"{type(exc).__name__}: {exc}"
        info["seconds"] = time.monotonic() - started
        done += 1
        if progress is not None:
            progress(done, cfg.motes)

    try:
        await asyncio.gather(*(one(m, info) for m, info in motes))
        seconds = time.monotonic() - t0
        rss = _rss_kib()
        problems: list[str] = []
        outcomes: list[MoteOutcome] = []
        for mote, info in motes:
            images = {"v1": cfg.old, "v2": cfg.new}
            running = mote.running()
            bootable = running is not None and mote.bootloader.verifier.verify(*running).accepted
            image_ok = running is not None and running[0] == images[info["expected"]]
            result = info.get("result", "failed")
            outcome = {"updated": "updated", "reverted": "reverted", "idle": "current"}.get(result, result)
            if outcome == "refused":
                outcome = "failed"
            # delivery is at least once (a POST whose answer was lost is sent again); a report is
            # identified by its content digest
            rows = {r["digest"]: r for r in db.reports(mote.device_id)}
            reports = [decode_report(db.report_body(r["id"])) for r in rows.values()]
            out = MoteOutcome(mote.device_id, info["profile"], info["start"], info["expected"], outcome,
                              image_ok, bootable, mote.stats.power_cuts, reports)
            outcomes.append(out)
            if not bootable:
                problems.append(f"{mote.device_id}: not bootable")
            if not image_ok:
                problems.append(f"{mote.device_id}: not on {info['expected']} ({info.get('error', outcome)})")
            if outcome != info["outcome"]:
                problems.append(f"{mote.device_id}: {outcome}, expected {info['outcome']} {info.get('error', '')}")
            want = {"updated": [True], "reverted": [INVOKE], "current": []}.get(outcome)
            got = [r[4] if r[4] is True else r[4].get(5) for r in reports]
            if want is not None and got != want:
                problems.append(f"{mote.device_id}: server reports {got}, mote state {outcome}")
        payload = sum(m.stats.payload_bytes for m, _ in motes)
        every = db.reports(limit=1 << 30)
        settle = sorted(info.get("seconds", 0.0) for _, info in motes)
        retrans = sum(m.stats.retransmissions for m, _ in motes)
        return FleetResult(outcomes, seconds, relay.stats.bytes, relay.stats.datagrams,
                           relay.stats.dropped, payload, retrans, len({(r["device_id"], r["digest"]) for r in every}),
                           rss, problems, len(every) - len({(r["device_id"], r["digest"]) for r in every}),
                           settle)
    finally:
        relay.close()
        if server is not None:
            await server.stop()
        else:
            content.close()
            db.close()
        executor.shutdown(wait=False)
        if tmp is not None:
            tmp.cleanup()


def default_pair(name: str = "simba-due-programmer-0.8.0-to-0.9.0") -> tuple[bytes, bytes]:
    """(old, new) of a shared corpus pair (``$SUITLIB_SHARED/corpus/firmware/NAME``)."""
    import os

    from suitlib.errors import InputError

    shared = Path(os.environ.get("SUITLIB_SHARED", Path(__file__).resolve().parents[3] / "shared"))
    folder = shared / "corpus" / "firmware" / name
    try:
        return (folder / "old.bin").read_bytes(), (folder / "new.bin").read_bytes()
    except OSError:
        raise InputError(f"corpus pair {name} not found under {shared}", hint="pass --old and --new") from None
