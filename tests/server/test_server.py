"""`suit serve` resources over real CoAP/UDP on loopback: payloads, manifests, reports, abuse."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import random
import socket
from pathlib import Path

import aiocoap
import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code
from aiocoap.optiontypes import BlockOption

from suitlib.server.app import ServerLimits
from suitlib.server.publish import publish
from suitlib.transport.coap.client import CoapFetcher
from suitlib.transport.coap.server import dedup_entries
from suitlib.transport.download import BytesSink
from suitlib.transport.errors import EntityTooLargeError, TransferFailedError
from tests.helpers.coap_server import FAST, running_server

VECTORS = Path("/work/shared/vectors/suit")
PAYLOAD = random.Random(11).randbytes(40_000)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()
CLASS = "1492af14-2569-5e48-bf42-9b2d51f2ab45"


def envelope(n: int) -> bytes:
    return (VECTORS / f"example{n}-signed.cbor").read_bytes()


async def raw(ctx: aiocoap.Context, uri: str, *, block2: tuple[int, int] | None = None, **opts: object) -> Message:
    msg = Message(code=opts.pop("code", Code.GET), uri=uri, **opts)  # type: ignore[arg-type]
    if block2 is not None:
        msg.opt.block2 = BlockOption.BlockwiseTuple(block2[0], False, block2[1])
    return await asyncio.wait_for(ctx.request(msg, handle_blockwise=False).response, 10)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("szx,window", [(6, 1), (6, 4), (2, 8)])
def test_fetcher_downloads_payload_byte_exact(tmp_path: Path, szx: int, window: int) -> None:
    async def go() -> None:
        async with running_server(tmp_path) as srv:
            srv.store.put("payloads", PAYLOAD)
            sink = BytesSink()
            progress: list[tuple[int, int | None]] = []
            stats = await CoapFetcher(timing=FAST, szx=szx, window=window).fetch(
                f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}", sink,
                progress=lambda r, t: progress.append((r, t)))
            assert sink.getvalue() == PAYLOAD
            assert stats.etag == bytes.fromhex(DIGEST)[:8]
            assert stats.requests == -(-len(PAYLOAD) // (16 << szx))
            assert progress[-1] == (len(PAYLOAD), len(PAYLOAD))
            assert [p[0] for p in progress] == sorted(p[0] for p in progress)
    run(go())


def test_aiocoap_client_cross_check_and_random_access(tmp_path: Path) -> None:
    """A second implementation (aiocoap's own block-wise client) gets the same bytes; any
    block can be fetched first with ETag and Size2 (stateless: a rebooted device resumes)."""
    async def go() -> None:
        async with running_server(tmp_path) as srv:
            srv.store.put("payloads", PAYLOAD)
            ctx = await aiocoap.Context.create_client_context()
            try:
                uri = f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}"
                whole = await asyncio.wait_for(ctx.request(Message(code=Code.GET, uri=uri)).response, 20)
                assert whole.payload == PAYLOAD
                r = await raw(ctx, uri, block2=(100, 2), size2=0)
                assert r.code == Code.CONTENT and r.payload == PAYLOAD[6400:6464]
                assert r.opt.etag == bytes.fromhex(DIGEST)[:8] and r.opt.size2 == len(PAYLOAD)
                assert r.opt.block2.block_number == 100 and r.opt.block2.more
                last = await raw(ctx, uri, block2=(len(PAYLOAD) // 1024, 6))
                assert not last.opt.block2.more and last.payload == PAYLOAD[-(len(PAYLOAD) % 1024):]
                past = await raw(ctx, uri, block2=(len(PAYLOAD) // 1024 + 1, 6))
                assert past.code == Code.BAD_OPTION
                plain = await raw(ctx, uri)  # no Block2 option: block 0 at the server's size
                assert plain.opt.size2 == len(PAYLOAD) and plain.payload == PAYLOAD[:1024]
                m = Message(code=Code.GET, uri=uri)
                m.opt.etags = (bytes.fromhex(DIGEST)[:8],)
                v = await asyncio.wait_for(ctx.request(m, handle_blockwise=False).response, 10)
                assert v.code == Code.VALID
            finally:
                await ctx.shutdown()
    run(go())


def test_unknown_paths_and_bad_requests_get_clear_codes(tmp_path: Path) -> None:
    async def go() -> None:
        async with running_server(tmp_path) as srv:
            ctx = await aiocoap.Context.create_client_context()
            base = f"coap://127.0.0.1:{srv.port}"
            try:
                assert (await raw(ctx, base + "/nothing/here")).code == Code.NOT_FOUND
                assert (await raw(ctx, base + "/suit/payload/" + "0" * 64)).code == Code.NOT_FOUND
                assert (await raw(ctx, base + "/suit/payload/not-hex")).code == Code.NOT_FOUND
                assert (await raw(ctx, base + "/suit/manifest/not-a-uuid")).code == Code.BAD_REQUEST
                assert (await raw(ctx, base + f"/suit/manifest/{CLASS}")).code == Code.NOT_FOUND
                put = await raw(ctx, base + "/suit/payload/" + DIGEST, code=Code.PUT, payload=b"x")
                assert put.code == Code.METHOD_NOT_ALLOWED
                wkc = await raw(ctx, base + "/.well-known/core")
                assert b"</suit/manifest>" in wkc.payload and wkc.opt.content_format == 40
            finally:
                await ctx.shutdown()
    run(go())


def test_manifest_per_class_per_device_rollout_and_observe(tmp_path: Path) -> None:
    async def go() -> None:
        async with running_server(tmp_path) as srv:
            publish(srv.store, srv.db, envelope(0))
            publish(srv.store, srv.db, envelope(2), device_id="special")
            base = f"coap://127.0.0.1:{srv.port}/suit/manifest/{CLASS}"
            f = CoapFetcher(timing=FAST, szx=2)
            assert await f.fetch_bytes(base) == envelope(0)
            assert await f.fetch_bytes(base + "?dev=special") == envelope(2)
            assert await f.fetch_bytes(base + "?dev=other") == envelope(0)
            assert {d["device_id"] for d in srv.db.devices()} == {"special", "other"}

            ctx = await aiocoap.Context.create_client_context()
            try:
                obs_req = Message(code=Code.GET, uri=base + "?dev=watcher", observe=0)
                obs = ctx.request(obs_req)
                first = await asyncio.wait_for(obs.response, 10)
                assert first.opt.etag == bytes.fromhex(hashlib.sha256(envelope(0)).hexdigest())[:8]
                # staged rollout at 50%: devices split deterministically
                publish(srv.store, srv.db, envelope(1), percent=50)
                assert srv.check_updates() >= 1
                note = await asyncio.wait_for(obs.observation.__aiter__().__anext__(), 10)
                from suitlib.server.rollout import in_rollout
                env1 = hashlib.sha256(envelope(1)).hexdigest()
                expect1 = in_rollout(env1, "watcher", 50)
                want = envelope(1) if expect1 else envelope(0)
                assert note.opt.etag == bytes.fromhex(hashlib.sha256(want).hexdigest())[:8]
                obs.observation.cancel()
            finally:
                await ctx.shutdown()
            got = [await f.fetch_bytes(base + f"?dev=d{i}") for i in range(40)]
            n1 = sum(g == envelope(1) for g in got)
            assert 8 <= n1 <= 32  # about half, and stable:
            assert got == [await f.fetch_bytes(base + f"?dev=d{i}") for i in range(40)]
            assert await f.fetch_bytes(base) == envelope(0)  # anonymous: only 100 % campaigns
    run(go())


def test_report_block1_upload_stored_whole(tmp_path: Path) -> None:
    report = random.Random(3).randbytes(3000)
    async def go() -> None:
        async with running_server(tmp_path) as srv:
            f = CoapFetcher(timing=FAST)
            resp = await f.post(f"coap://127.0.0.1:{srv.port}/suit/report?dev=mote7", report, szx=2)
            assert resp.code == Code.CREATED
            rows = srv.db.reports()
            assert len(rows) == 1 and rows[0]["device_id"] == "mote7" and rows[0]["size"] == 3000
            assert srv.db.report_body(rows[0]["id"]) == report
    run(go())


def test_report_gap_and_oversize_are_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    async def go() -> None:
        async with running_server(tmp_path, ServerLimits(rate=0, report_max=1024)) as srv:
            uri = f"coap://127.0.0.1:{srv.port}/suit/report"
            ctx = await aiocoap.Context.create_client_context()
            try:
                def part(num: int, more: bool, size1: int | None = None) -> Message:
                    m = Message(code=Code.POST, uri=uri, payload=b"r" * 64)
                    m.opt.block1 = BlockOption.BlockwiseTuple(num, more, 2)
                    if size1 is not None:
                        m.opt.size1 = size1
                    return m
                r0 = await asyncio.wait_for(ctx.request(part(0, True), handle_blockwise=False).response, 10)
                assert r0.code == Code.CONTINUE and r0.opt.block1.block_number == 0
                gap = await asyncio.wait_for(ctx.request(part(2, True), handle_blockwise=False).response, 10)
                assert gap.code == Code.REQUEST_ENTITY_INCOMPLETE
                orphan = await asyncio.wait_for(ctx.request(part(5, False), handle_blockwise=False).response, 10)
                assert orphan.code == Code.REQUEST_ENTITY_INCOMPLETE
                big = await asyncio.wait_for(ctx.request(part(0, True, size1=5000), handle_blockwise=False).response, 10)
                assert big.code == Code.REQUEST_ENTITY_TOO_LARGE and big.opt.size1 == 1024
                with pytest.raises(EntityTooLargeError):
                    await CoapFetcher(timing=FAST).post(uri, b"z" * 2000, szx=2)
            finally:
                await ctx.shutdown()
            assert srv.db.reports() == []
    run(go())


def test_flood_from_one_address_gets_4_29_with_max_age(tmp_path: Path) -> None:
    small = PAYLOAD[:2000]
    async def go() -> None:
        async with running_server(tmp_path, ServerLimits(rate=2, burst=5)) as srv:
            srv.store.put("payloads", PAYLOAD)
            small_digest = srv.store.put("payloads", small)
            ctx = await aiocoap.Context.create_client_context()
            uri = f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}"
            try:
                codes = []
                for i in range(40):
                    r = await raw(ctx, uri, block2=(i, 2))
                    codes.append(r.code)
                    if r.code == Code.TOO_MANY_REQUESTS:
                        assert r.opt.max_age is not None and r.opt.max_age >= 1
                assert codes[:5] == [Code.CONTENT] * 5
                assert codes.count(Code.TOO_MANY_REQUESTS) >= 25
                assert srv.site.throttled >= 25
            finally:
                await ctx.shutdown()
            # our fetcher honours Max-Age and still completes
            sink = BytesSink()
            await CoapFetcher(timing=FAST, szx=6).fetch(
                f"coap://127.0.0.1:{srv.port}/suit/payload/{small_digest}", sink)
            assert sink.getvalue() == small
    asyncio.run(asyncio.wait_for(go(), 120))


def _mutations(rng: random.Random, port: int) -> list[bytes]:
    """Valid requests to every resource, then bit flips, truncations, splices and odd options."""
    seeds = []
    for path, code, block1, block2 in [
        (("suit", "payload", DIGEST), Code.GET, None, (3, False, 2)),
        (("suit", "manifest", CLASS), Code.GET, None, (0, False, 6)),
        (("suit", "report"), Code.POST, (1, True, 2), None),
        (("suit", "report"), Code.POST, (0, False, 6), None),
        ((".well-known", "core"), Code.GET, None, None),
    ]:
        m = Message(code=code, uri_path=path, payload=b"x" * 64 if code == Code.POST else b"")
        if block1:
            m.opt.block1 = BlockOption.BlockwiseTuple(*block1)
        if block2:
            m.opt.block2 = BlockOption.BlockwiseTuple(*block2)
        m.mtype, m.mid, m.token = aiocoap.CON, rng.randrange(1 << 16), rng.randbytes(4)
        seeds.append(m.encode())
    out = []
    for _ in range(400):
        d = bytearray(rng.choice(seeds))
        op = rng.randrange(4)
        if op == 0:
            for _ in range(rng.randrange(1, 4)):
                i = rng.randrange(4, len(d))
                d[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            d = d[: rng.randrange(4, len(d))]
        elif op == 2:
            d[2:4] = rng.randbytes(2)  # fresh MID so it is not deduplicated
            d += rng.choice(seeds)[4:]
        else:
            i = rng.randrange(8, len(d))
            d[i:i] = rng.randbytes(rng.randrange(1, 6))
        d[2:4] = rng.randbytes(2)
        out.append(bytes(d))
    return out


def test_malformed_and_mutated_requests_never_cause_a_server_error(tmp_path: Path) -> None:
    """Random junk and mutated valid requests: every answer is a 2.xx/4.xx, never 5.00 (which
    would mean our resource code raised), and the server keeps serving."""
    async def go() -> None:
        async with running_server(tmp_path) as srv:
            srv.store.put("payloads", PAYLOAD)
            publish(srv.store, srv.db, envelope(0))
            rng = random.Random(9)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            answers: list[Message] = []
            try:
                junk = [b"", b"\x40", b"\xff" * 4, b"\x50\x01\x00\x01", b"\x44\x01\x00\x01abcd\xff",
                        b"\x41\x01\x00\x01a\xd1\x0a\x07"]  # Block2 with SZX 7
                junk += [rng.randbytes(rng.randrange(1, 80)) for _ in range(200)]
                junk += _mutations(rng, srv.port)
                for j in junk:
                    s.sendto(j, ("127.0.0.1", srv.port))
                    await asyncio.sleep(0)
                await asyncio.sleep(0.5)
                while True:
                    try:
                        data = s.recv(2048)
                    except BlockingIOError:
                        break
                    answers.append(Message.decode(data))
            finally:
                s.close()
            codes = [a.code for a in answers if a.code.is_response()]
            assert len(codes) > 100
            assert not [c for c in codes if int(c) >> 5 == 5], codes
            kinds = collections.Counter(int(c) >> 5 for c in codes)
            assert kinds[2] > 10 and kinds[4] > 10  # both served and refused requests
            sink = BytesSink()
            await CoapFetcher(timing=FAST, szx=6).fetch(f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}", sink)
            assert sink.getvalue() == PAYLOAD
    run(go())


def test_dedup_cache_is_bounded(tmp_path: Path) -> None:
    async def go() -> None:
        async with running_server(tmp_path, ServerLimits(rate=0, dedup_entries=50)) as srv:
            srv.store.put("payloads", PAYLOAD)
            sink = BytesSink()
            await CoapFetcher(timing=FAST, szx=2, window=4).fetch(
                f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}", sink)
            assert sink.getvalue() == PAYLOAD
            assert srv.context is not None
            assert 0 < dedup_entries(srv.context) <= 51  # 625 exchanges happened
    run(go())


def test_shutdown_mid_download_fails_cleanly(tmp_path: Path) -> None:
    async def go() -> None:
        srv_cm = running_server(tmp_path)
        srv = await srv_cm.__aenter__()
        srv.store.put("payloads", PAYLOAD)
        got = bytearray()
        stopped = False

        def sink(offset: int, data: bytes) -> None:
            nonlocal stopped
            got.extend(data)
            if len(got) > 5000 and not stopped:
                stopped = True
                asyncio.ensure_future(srv_cm.__aexit__(None, None, None))

        fast = FAST.__class__(ack_timeout=0.02, max_retransmit=2, reissues=1)
        with pytest.raises(TransferFailedError):
            await CoapFetcher(timing=fast, szx=2).fetch(
                f"coap://127.0.0.1:{srv.port}/suit/payload/{DIGEST}", sink)
        assert stopped and 5000 < len(got) < len(PAYLOAD)
        assert bytes(got) == PAYLOAD[: len(got)]
    run(go())
