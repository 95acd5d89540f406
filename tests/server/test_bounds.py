"""The server's memory and abuse bounds, with a fake clock: rate limit, upload assemblies,
duplicate cache, rollout buckets."""

from __future__ import annotations

from suitlib.server.rollout import bucket, in_rollout
from suitlib.transport.blockwise import Block1Assembly
from suitlib.transport.coap.server import TokenBucket, _Assemblies, _BoundedRecent


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_allows_burst_then_rate_and_reports_the_wait() -> None:
    clock = Clock()
    tb = TokenBucket(rate=10, burst=5, clock=clock)
    assert [tb.take("a") for _ in range(5)] == [0.0] * 5
    wait = tb.take("a")
    assert 0.09 <= wait <= 0.11  # one token every 0.1 s
    assert tb.take("b") == 0.0  # another address has its own bucket
    clock.t += 0.1
    assert tb.take("a") == 0.0


def test_token_bucket_table_is_bounded() -> None:
    tb = TokenBucket(rate=1, burst=1, max_keys=100, clock=Clock())
    for i in range(1000):
        tb.take(f"10.0.{i // 256}.{i % 256}")
    assert len(tb._buckets) == 100


def test_upload_assemblies_expire_and_are_capped() -> None:
    clock = Clock()
    table = _Assemblies(max_count=3, lifetime=93.0, clock=clock)
    for k in range(5):
        table.get(k, lambda: Block1Assembly(1024))
    assert len(table) == 3 and table.get(0, None) is None  # oldest evicted
    clock.t += 94
    assert table.get(4, None) is None and len(table) == 0  # slow client's upload expired


def test_duplicate_cache_is_capped_and_ages_out() -> None:
    clock = Clock()
    recent = _BoundedRecent(max_entries=100, lifetime=247.0, clock=clock)
    for mid in range(1000):
        recent[("peer", mid)] = None
    assert len(recent) == 100 and ("peer", 999) in recent and ("peer", 0) not in recent
    clock.t += 248
    recent[("peer", 5000)] = b"response"
    assert list(recent) == [("peer", 5000)]
    assert recent.pop(("gone", 1)) is None  # aiocoap's timer pop of an evicted key is harmless


def test_rollout_is_deterministic_monotone_and_about_right() -> None:
    devices = [f"dev{i}" for i in range(2000)]
    at10 = {d for d in devices if in_rollout("c1", d, 10)}
    at50 = {d for d in devices if in_rollout("c1", d, 50)}
    assert at10 <= at50  # raising the percentage keeps everyone already in
    assert 150 <= len(at10) <= 250 and 900 <= len(at50) <= 1100
    assert at10 == {d for d in devices if in_rollout("c1", d, 10)}
    assert at10 != {d for d in devices if in_rollout("c2", d, 10)}  # per campaign
    assert not in_rollout("c1", None, 99) and in_rollout("c1", None, 100)
    assert all(0 <= bucket("c", d) < 100 for d in devices[:50])
