"""RFC 7959 block-wise machines: negotiation, ETag pinning, resume, windows, typed rejections."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.errors import TransportError
from suitlib.transport.blockwise import (
    CODE_CHANGED,
    CODE_CONTINUE,
    CODE_REQUEST_ENTITY_INCOMPLETE,
    CODE_REQUEST_ENTITY_TOO_LARGE,
    Block,
    Block1Assembly,
    Block1Upload,
    Block2Download,
    BlockRequest,
    Completed,
    DataReceived,
    Position,
    Progress,
    Restarted,
    slice_block2,
)
from suitlib.transport.errors import (
    BlockOptionError,
    BlockSizeError,
    BlockwiseError,
    DuplicateBlockError,
    EntityTooLargeError,
    OversizedBlockError,
    RequestIncompleteError,
    ResourceChangedError,
    TransferTooLargeError,
    UnexpectedBlockError,
    WrongOffsetError,
)
from tests.helpers.blockwise_sim import SimServer, run

DATA = random.Random(1).randbytes(5000)


def collect(dl: Block2Download, server: SimServer, rng: random.Random | None = None) -> bytes:
    out = bytearray()
    start = dl.offset
    orig = dl.receive

    def receive(req, block, payload, *, etag=None, size2=None):  # type: ignore[no-untyped-def]
        events = orig(req, block, payload, etag=etag, size2=size2)
        for ev in events:
            if isinstance(ev, DataReceived):
                assert ev.offset == start + len(out)
                out.extend(ev.data)
        return events

    dl.receive = receive  # type: ignore[method-assign]
    run(dl, server, rng=rng)
    return bytes(out)


# --- the option ---------------------------------------------------------------------------


@given(st.integers(0, (1 << 20) - 1), st.booleans(), st.integers(0, 6))
def test_block_option_roundtrip(num: int, more: bool, szx: int) -> None:
    b = Block(num, more, szx)
    assert Block.decode(b.encode()) == b
    assert b.size == 16 << szx and b.offset == num * b.size


@pytest.mark.parametrize("value", [7, 0x17, 1 << 24, -1])
def test_block_option_rejects_bert_and_overflow(value: int) -> None:
    with pytest.raises(BlockOptionError):
        Block.decode(value)


# --- Block2 download ----------------------------------------------------------------------


@pytest.mark.parametrize("szx", [0, 2, 6])
@pytest.mark.parametrize("window", [1, 4])
def test_download_in_order_is_byte_exact(szx: int, window: int) -> None:
    dl = Block2Download(szx=szx, window=window)
    assert collect(dl, SimServer(DATA)) == DATA
    assert dl.done and dl.size == len(DATA)


@given(st.integers(0, 6), st.integers(1, 12), st.integers(0, 2**32), st.integers(0, 3000))
def test_download_any_window_any_order_any_size(szx: int, window: int, seed: int, n: int) -> None:
    data = DATA[:n]
    dl = Block2Download(szx=szx, window=window)
    assert collect(dl, SimServer(data), random.Random(seed)) == data
    # the reorder buffer never exceeds the window
    assert len(dl._buffer) == 0


def test_window_opens_only_after_first_answer_and_stays_bounded() -> None:
    dl = Block2Download(szx=4, window=5)
    first = dl.requests()
    assert len(first) == 1 and first[0].ask_size
    server = SimServer(DATA)
    dl.receive(first[0], *server.answer(first[0])[:2], etag=server.etag, size2=len(DATA))
    nxt = dl.requests()
    assert [r.block.num for r in nxt] == [1, 2, 3, 4, 5]
    assert dl.requests() == []  # window full


def test_server_may_choose_smaller_blocks() -> None:
    dl = Block2Download(szx=6, window=3)
    server = SimServer(DATA, max_szx=2)  # 64 B blocks
    assert collect(dl, server) == DATA
    assert dl.szx == 2


def test_larger_block_than_requested_is_rejected() -> None:
    dl = Block2Download(szx=2)
    (req,) = dl.requests()
    with pytest.raises(OversizedBlockError):
        dl.receive(req, Block(0, True, 6), DATA[:1024], etag=b"e")


def test_payload_longer_than_block_is_rejected() -> None:
    dl = Block2Download(szx=2)
    (req,) = dl.requests()
    with pytest.raises(OversizedBlockError):
        dl.receive(req, Block(0, True, 2), DATA[:65], etag=b"e")


def test_short_non_final_block_is_rejected() -> None:
    dl = Block2Download(szx=2)
    (req,) = dl.requests()
    with pytest.raises(BlockSizeError):
        dl.receive(req, Block(0, True, 2), DATA[:63], etag=b"e")


def test_duplicate_and_unrequested_blocks_are_rejected_and_harmless() -> None:
    server = SimServer(DATA)
    dl = Block2Download(szx=4, window=2)
    (r0,) = dl.requests()
    dl.receive(r0, *server.answer(r0)[:2], etag=server.etag, size2=len(DATA))
    with pytest.raises(DuplicateBlockError):
        dl.receive(r0, *server.answer(r0)[:2], etag=server.etag)
    never = BlockRequest(Block(40, False, 4), 0)
    with pytest.raises(UnexpectedBlockError):
        dl.receive(never, Block(40, True, 4), DATA[40 * 256 : 41 * 256], etag=server.etag)
    assert collect(dl, server) == DATA[256:]  # the machine is unharmed


def test_wrong_offset_answer_is_rejected() -> None:
    server = SimServer(DATA)
    dl = Block2Download(szx=4)
    (r0,) = dl.requests()
    dl.receive(r0, *server.answer(r0)[:2], etag=server.etag, size2=len(DATA))
    (r1,) = dl.requests()
    with pytest.raises(WrongOffsetError):
        dl.receive(r1, Block(2, True, 4), DATA[512:768], etag=server.etag)


def test_final_block_must_end_at_size2() -> None:
    dl = Block2Download(szx=4)
    (r0,) = dl.requests()
    with pytest.raises(BlockSizeError):
        dl.receive(r0, Block(0, False, 4), DATA[:100], etag=b"e", size2=5000)


def test_size_limit_from_size2_and_from_data() -> None:
    dl = Block2Download(szx=4, max_size=1000)
    (r0,) = dl.requests()
    with pytest.raises(TransferTooLargeError):
        dl.receive(r0, Block(0, True, 4), DATA[:256], etag=b"e", size2=5000)
    dl = Block2Download(szx=6, max_size=1000)
    (r0,) = dl.requests()
    with pytest.raises(TransferTooLargeError):
        dl.receive(r0, Block(0, False, 6), DATA[:1024], etag=b"e")


def test_etag_change_restarts_cleanly_without_splicing() -> None:
    old, new = DATA, bytes(reversed(DATA))
    server = SimServer(old)
    dl = Block2Download(szx=4, window=3)
    delivered = bytearray()
    events_seen: list[object] = []
    answered = 0
    while not dl.done:
        for req in dl.requests():
            if answered == 5:
                server = SimServer(new)  # republished under the same URI mid-transfer
            block, payload, etag, size2 = server.answer(req)
            for ev in dl.receive(req, block, payload, etag=etag, size2=size2):
                events_seen.append(ev)
                if isinstance(ev, Restarted):
                    delivered.clear()
                elif isinstance(ev, DataReceived):
                    assert ev.offset == len(delivered)
                    delivered.extend(ev.data)
            answered += 1
    assert bytes(delivered) == new
    assert sum(isinstance(e, Restarted) for e in events_seen) == 1
    assert isinstance(events_seen[-1], Completed) and events_seen[-1].etag == server.etag


def test_stale_answers_after_restart_are_ignored() -> None:
    server = SimServer(DATA)
    dl = Block2Download(szx=4, window=4)
    (r0,) = dl.requests()
    dl.receive(r0, *server.answer(r0)[:2], etag=server.etag, size2=len(DATA))
    reqs = dl.requests()
    other = SimServer(DATA[::-1])
    events = dl.receive(reqs[0], *other.answer(reqs[0])[:2], etag=other.etag)
    assert isinstance(events[0], Restarted)
    assert dl.receive(reqs[1], *server.answer(reqs[1])[:2], etag=server.etag) == []


def test_too_many_changes_raise_resource_changed() -> None:
    dl = Block2Download(szx=4, max_restarts=2)
    for i in range(3):
        (req,) = dl.requests()
        dl.receive(req, Block(0, True, 4), DATA[:256], etag=bytes([i]), size2=5000)
        (req,) = dl.requests()
        if i < 2:
            dl.receive(req, Block(req.block.num, True, 4), DATA[256:512], etag=b"other", size2=5000)
    with pytest.raises(ResourceChangedError):
        dl.receive(req, Block(1, True, 4), DATA[256:512], etag=b"changed", size2=5000)


@given(st.integers(0, len(DATA)), st.integers(0, 6), st.integers(1, 6))
def test_resume_at_any_byte_offset(offset: int, szx: int, window: int) -> None:
    server = SimServer(DATA)
    dl = Block2Download(szx=szx, window=window, resume=Position(offset, server.etag, len(DATA), szx))
    assert collect(dl, server) == DATA[offset:]


def test_resume_with_changed_resource_restarts_from_zero() -> None:
    server = SimServer(DATA)
    dl = Block2Download(szx=4, resume=Position(1000, b"oldetag!", len(DATA), 4))
    events: list[object] = []
    out = bytearray()
    while not dl.done:
        for req in dl.requests():
            for ev in dl.receive(req, *server.answer(req)[:2], etag=server.etag, size2=len(DATA)):
                events.append(ev)
                if isinstance(ev, DataReceived):
                    out.extend(ev.data)
    assert isinstance(events[0], Restarted)
    assert bytes(out) == DATA


def test_whole_representation_without_block2() -> None:
    dl = Block2Download(szx=6)
    (req,) = dl.requests()
    events = dl.receive(req, None, b"tiny", etag=b"t")
    assert events[0] == DataReceived(0, b"tiny") and isinstance(events[-1], Completed)


def test_progress_events_are_monotone_and_complete() -> None:
    dl = Block2Download(szx=4, window=3)
    server = SimServer(DATA)
    seen: list[int] = []
    while not dl.done:
        for req in dl.requests():
            for ev in dl.receive(req, *server.answer(req)[:2], etag=server.etag, size2=len(DATA)):
                if isinstance(ev, Progress):
                    seen.append(ev.received)
                    assert ev.total == len(DATA)
    assert seen == sorted(seen) and seen[-1] == len(DATA)


@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.booleans(), st.integers(0, 6), st.binary(max_size=1100),
                  st.sampled_from([None, b"a", b"b"]), st.sampled_from([None, 0, 100, 5000, 1 << 30])),
        max_size=30,
    )
)
def test_hostile_answers_only_raise_transport_errors(answers: list) -> None:  # type: ignore[type-arg]
    dl = Block2Download(szx=4, window=4, max_size=1 << 20)
    for num, more, szx, payload, etag, size2 in answers:
        reqs = dl.requests() or [BlockRequest(Block(num % 20, False, 4), 0)]
        try:
            dl.receive(reqs[0], Block(num, more, szx), payload, etag=etag, size2=size2)
        except TransportError as exc:
            assert isinstance(exc, BlockwiseError)
        if dl.done:
            break


# --- Block1 -------------------------------------------------------------------------------


@pytest.mark.parametrize("client_szx,server_szx", [(6, 6), (6, 2), (2, 2), (0, 6)])
def test_upload_roundtrip_with_server_smaller_blocks(client_szx: int, server_szx: int) -> None:
    body = DATA[:3000]
    up = Block1Upload(body, szx=client_szx)
    asm = Block1Assembly(max_size=4096, max_szx=server_szx)
    result = None
    while (req := up.next_request()) is not None:
        got = asm.feed(req.block, req.payload, size1=req.size1)
        if got is None:
            echo = asm.continue_block(req.block)
            assert not up.receive(CODE_CONTINUE, echo)
        else:
            result = got
            assert up.receive(CODE_CHANGED, Block(req.block.num, False, req.block.szx))
    assert result == body


def test_assembly_rejects_gap_and_missing_start() -> None:
    asm = Block1Assembly(max_size=4096)
    with pytest.raises(RequestIncompleteError):
        asm.feed(Block(1, True, 2), b"x" * 64)
    asm.feed(Block(0, True, 2), b"x" * 64)
    with pytest.raises(RequestIncompleteError):
        asm.feed(Block(2, True, 2), b"x" * 64)


def test_assembly_answers_a_repeated_block_again() -> None:
    asm = Block1Assembly(max_size=4096)
    asm.feed(Block(0, True, 2), b"a" * 64)
    asm.feed(Block(1, True, 2), b"b" * 64)
    assert asm.feed(Block(1, True, 2), b"b" * 64) is None  # lost 2.31, block resent
    with pytest.raises(RequestIncompleteError):
        asm.feed(Block(1, True, 2), b"c" * 64)  # different bytes for a stored block
    assert asm.feed(Block(2, False, 2), b"end") == b"a" * 64 + b"b" * 64 + b"end"


def test_assembly_rejects_oversize_and_keeps_nothing() -> None:
    asm = Block1Assembly(max_size=100)
    with pytest.raises(EntityTooLargeError):
        asm.feed(Block(0, True, 2), b"x" * 64, size1=200)
    asm.feed(Block(0, True, 2), b"x" * 64)
    with pytest.raises(EntityTooLargeError):
        asm.feed(Block(1, True, 2), b"x" * 64)
    assert asm.received == 0
    with pytest.raises(RequestIncompleteError):  # the half-upload is gone
        asm.feed(Block(2, False, 2), b"x")


def test_upload_maps_error_codes_to_typed_errors() -> None:
    up = Block1Upload(DATA[:200], szx=2)
    up.next_request()
    with pytest.raises(EntityTooLargeError):
        up.receive(CODE_REQUEST_ENTITY_TOO_LARGE, None, size1=100)
    up = Block1Upload(DATA[:200], szx=2)
    up.next_request()
    with pytest.raises(RequestIncompleteError):
        up.receive(CODE_REQUEST_ENTITY_INCOMPLETE, None)
    up = Block1Upload(DATA[:200], szx=2)
    up.next_request()
    with pytest.raises(WrongOffsetError):
        up.receive(CODE_CONTINUE, Block(3, True, 2))


def test_slice_block2_random_access_and_past_end() -> None:
    assert slice_block2(5000, Block(3, False, 6), 6) == (Block(3, True, 6), 3072, 4096)
    assert slice_block2(5000, Block(4, False, 6), 6) == (Block(4, False, 6), 4096, 5000)
    assert slice_block2(5000, Block(1, False, 6), 2) == (Block(16, True, 2), 1024, 1088)
    with pytest.raises(UnexpectedBlockError):
        slice_block2(5000, Block(5, False, 6), 6)
    assert slice_block2(0, None, 6) == (Block(0, False, 6), 0, 0)


@given(st.integers(-5, 1 << 25))
def test_block_decode_any_int_is_a_block_or_a_typed_error(value: int) -> None:
    try:
        b = Block.decode(value)
    except BlockOptionError:
        return
    assert b.encode() == value


@given(st.lists(st.tuples(st.integers(0, 40), st.booleans(), st.integers(0, 6), st.integers(0, 1100),
                          st.one_of(st.none(), st.integers(0, 10_000))), max_size=40))
def test_assembly_under_random_blocks_never_exceeds_its_limit(seq: list) -> None:  # type: ignore[type-arg]
    asm = Block1Assembly(max_size=2048)
    for num, more, szx, n, size1 in seq:
        try:
            body = asm.feed(Block(num, more, szx), b"q" * n, size1=size1)
        except BlockwiseError:
            continue
        assert asm.received <= 2048
        if body is not None:
            assert len(body) <= 2048


@given(st.integers(0, 100_000), st.integers(0, 5000), st.integers(0, 6), st.integers(0, 6))
def test_slice_block2_covers_exactly_the_requested_range(total: int, num: int, szx: int, max_szx: int) -> None:
    try:
        block, start, end = slice_block2(total, Block(num, False, szx), max_szx)
    except UnexpectedBlockError:
        assert num * (16 << szx) >= total and not (total == 0 and num == 0)
        return
    assert block.szx == min(szx, max_szx) and start == block.offset
    assert start <= end <= total and end - start <= block.size
    assert block.more == (end < total)
