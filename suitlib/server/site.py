"""The update server's CoAP resources (specs/COAP-TRANSPORT.md §"Resources").

- ``/suit/manifest/<class-uuid>[?dev=<id>]`` — the envelope a device of that class gets
  (device-specific campaign, else the newest class campaign whose staged rollout includes the
  device). Block2, ETag = envelope digest prefix, Observe (RFC 7641): observers are notified
  when their answer changes.
- ``/suit/payload/<sha256-hex>`` — a payload from the content-addressed store, stateless
  random-access Block2, ETag = digest prefix, Size2, long Max-Age (immutable).
- ``/suit/report[?dev=<id>]`` — SUIT_Report upload by POST with atomic Block1; stored only
  when complete (2.01 Created, Location-Path suit/report/<n>).
- ``/.well-known/core`` — RFC 6690 link format of the above.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

import aiocoap.resource as resource
from aiocoap import Message
from aiocoap.numbers.codes import Code

from suitlib.cbor import Tag, decode
from suitlib.errors import InputError
from suitlib.server.db import UpdateDB, normalize_class
from suitlib.server.store import ContentStore, is_digest_hex
from suitlib.transport.coap.server import (
    Block1Resource,
    Representation,
    StaticBlock2Resource,
    block2_response,
    error_response,
    remote_host,
)

CF_LINK_FORMAT = 40
CF_CBOR = 60
PAYLOAD_MAX_AGE = 86400
ETAG_LEN = 8


def _device_of(request: Message) -> str | None:
    for q in request.opt.uri_query:
        key, _, value = q.partition("=")
        if key == "dev" and value:
            if len(value) > 64 or not value.isprintable():
                raise error_response(Code.BAD_REQUEST, "bad device id")
            return value
    return None


class ManifestResource(resource.ObservableResource, resource.PathCapable):
    """``/suit/manifest/<class-uuid>``: the current envelope for a class (and device)."""

    rt = "suit.manifest"

    def __init__(self, db: UpdateDB, store: ContentStore) -> None:
        super().__init__()
        self.db, self.store = db, store
        self._observers: dict[str, set[Any]] = defaultdict(set)
        self._current: dict[str, str | None] = {}

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    def _class_of(self, request: Message) -> str:
        if len(request.opt.uri_path) != 1:
            raise error_response(Code.NOT_FOUND, "use /suit/manifest/<class-uuid>")
        try:
            return normalize_class(request.opt.uri_path[0])
        except InputError:
            raise error_response(Code.BAD_REQUEST, "class id is not a UUID") from None

    async def add_observation(self, request: Message, serverobservation: Any) -> None:
        try:
            cls = self._class_of(request)
        except Exception:  # noqa: BLE001 - no observation for a bad request; render answers it
            return
        self._observers[cls].add(serverobservation)

        def cancel(cls: str = cls, obs: Any = serverobservation) -> None:
            self._observers[cls].discard(obs)
            if not self._observers[cls]:
                del self._observers[cls]

        serverobservation.accept(cancel)

    def observer_count(self) -> int:
        return sum(len(v) for v in self._observers.values())

    def refresh(self) -> int:
        """Notify observers of every class whose newest campaign changed; returns how many."""
        notified = 0
        for cls in list(self._observers):
            marker = json.dumps([(c.id, c.percent) for c in self.db.campaigns() if c.class_id == cls])
            if self._current.get(cls) != marker:
                self._current[cls] = marker
                for obs in list(self._observers.get(cls, ())):
                    obs.trigger()
                    notified += 1
        return notified

    async def render_get(self, request: Message) -> Message:
        cls = self._class_of(request)
        device = _device_of(request)
        block = request.opt.block2
        if device is not None and (block is None or block.block_number == 0):
            self.db.seen(device, cls, remote_host(request))
        if cls not in self._current:
            self._current[cls] = json.dumps(
                [(c.id, c.percent) for c in self.db.campaigns() if c.class_id == cls]
            )
        campaign = self.db.select(cls, device)
        if campaign is None:
            raise error_response(Code.NOT_FOUND, "no update for this class")
        size = self.store.size("envelopes", campaign.envelope)
        if size is None:
            raise error_response(Code.INTERNAL_SERVER_ERROR, "envelope missing from the store")
        digest = campaign.envelope
        rep = Representation(
            size,
            bytes.fromhex(digest)[:ETAG_LEN],
            lambda off, n: self.store.read("envelopes", digest, off, n),
            max_age=60,
        )
        return block2_response(request, rep)


class PayloadResource(StaticBlock2Resource, resource.PathCapable):
    """``/suit/payload/<sha256-hex>``: immutable payload bytes by digest."""

    rt = "suit.payload"

    def __init__(self, store: ContentStore) -> None:
        super().__init__()
        self.store = store

    async def representation(self, request: Message) -> Representation:
        path = request.opt.uri_path
        if len(path) != 1 or not is_digest_hex(path[0]):
            raise error_response(Code.NOT_FOUND, "use /suit/payload/<sha256-hex>")
        digest = path[0]
        size = self.store.size("payloads", digest)
        if size is None:
            raise error_response(Code.NOT_FOUND, "no such payload")
        return Representation(
            size,
            bytes.fromhex(digest)[:ETAG_LEN],
            lambda off, n: self.store.read("payloads", digest, off, n),
            max_age=PAYLOAD_MAX_AGE,
        )


def summarize_report(body: bytes) -> dict[str, Any]:
    """A small JSON description of an uploaded report (never raises)."""
    out: dict[str, Any] = {"size": len(body)}
    try:
        value = decode(body)
    except Exception:  # noqa: BLE001 - a report we cannot parse is kept raw
        out["format"] = "opaque"
        return out
    if isinstance(value, Tag):
        out["format"], out["tag"] = "cbor-tagged", int(value.number)
    elif isinstance(value, dict) or hasattr(value, "keys"):
        out["format"] = "cbor-map"
        out["keys"] = sorted(str(k) for k in list(value.keys())[:32])
    else:
        out["format"] = "cbor"
    return out


class ReportResource(Block1Resource):
    """``/suit/report``: SUIT_Report by POST (atomic Block1, bounded size)."""

    rt = "suit.report"
    ct = str(CF_CBOR)
    max_body = 16 * 1024

    def __init__(self, db: UpdateDB) -> None:
        super().__init__()
        self.db = db

    async def complete(self, request: Message, body: bytes) -> Message:
        device = _device_of(request)
        address = remote_host(request)
        rid = self.db.add_report(
            device, address, body, hashlib.sha256(body).hexdigest(), summarize_report(body)
        )
        if device is not None:
            self.db.seen(device, None, address)
        m = Message(code=Code.CREATED)
        m.opt.location_path = ("suit", "report", str(rid))
        return m


class LinkResource(resource.Resource):
    """``/.well-known/core`` (RFC 6690)."""

    ct = str(CF_LINK_FORMAT)
    LINKS = (
        '</suit/manifest>;rt="suit.manifest";obs,'
        '</suit/payload>;rt="suit.payload",'
        '</suit/report>;rt="suit.report";ct=60'
    )

    async def render_get(self, request: Message) -> Message:
        m = Message(payload=self.LINKS.encode("ascii"))
        m.opt.content_format = CF_LINK_FORMAT
        return m
