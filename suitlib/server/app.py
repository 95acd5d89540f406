"""The update server process: aiocoap context, resources, limits, lifecycle.

``UpdateServer(store_dir).start(("::", 5683))`` binds, ``stop()`` shuts down gracefully
(pending responses flushed by aiocoap, observers released, the database closed).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiocoap

from suitlib.errors import InputError, UnsupportedError
from suitlib.server.db import UpdateDB
from suitlib.server.site import LinkResource, ManifestResource, PayloadResource, ReportResource
from suitlib.server.store import ContentStore
from suitlib.transport.coap.server import GuardedSite, TokenBucket, bound_deduplication, bound_port

DB_NAME = "suit.db"


@dataclass(frozen=True)
class ServerLimits:
    """Abuse bounds of the server (specs/COAP-TRANSPORT.md §"Robustness")."""

    rate: float = 500.0
    """Requests per second per source address (0 = unlimited); over it: 4.29 + Max-Age."""
    burst: float = 1000.0
    dedup_entries: int = 4096
    """Most responses kept for duplicate detection (aiocoap keeps all for 247 s otherwise).
    Entries evicted early only matter for retransmissions of non-idempotent requests; Block1
    assemblies tolerate a repeated block."""
    dedup_lifetime: float = 247.0
    report_max: int = 16 * 1024
    upload_assemblies: int = 256
    poll_interval: float = 1.0
    """How often the database is checked for new campaigns (to notify observers)."""


def open_store(store_dir: str | Path) -> tuple[ContentStore, UpdateDB]:
    store = ContentStore(store_dir)
    store.init()
    return store, UpdateDB(Path(store_dir) / DB_NAME)


class UpdateServer:
    """``suit serve`` as an object (tests and benchmarks start it in-process)."""

    def __init__(
        self,
        store_dir: str | Path,
        limits: ServerLimits = ServerLimits(),
        *,
        oscore_credentials: str | Path | None = None,
        require_auth: bool = False,
    ) -> None:
        """``oscore_credentials``: an aiocoap credentials JSON file (RFC 8613 contexts, see
        specs/COAP-TRANSPORT.md §Security); ``require_auth`` refuses unprotected requests."""
        if require_auth and oscore_credentials is None:
            raise InputError("requiring authentication needs OSCORE credentials",
                             hint="pass --oscore CREDENTIALS.json")
        self.limits = limits
        self.oscore_credentials = oscore_credentials
        self.site = GuardedSite(
            TokenBucket(limits.rate, limits.burst) if limits.rate > 0 else None,
            require_auth=require_auth,
        )
        self.store, self.db = open_store(store_dir)
        self.manifests = ManifestResource(self.db, self.store)
        self.payloads = PayloadResource(self.store)
        self.reports = ReportResource(self.db)
        self.reports.max_body = limits.report_max
        self.site.add_resource(["suit", "manifest"], self.manifests)
        self.site.add_resource(["suit", "payload"], self.payloads)
        self.site.add_resource(["suit", "report"], self.reports)
        self.site.add_resource([".well-known", "core"], LinkResource())
        self.context: aiocoap.Context | None = None
        self.port = 0
        self._poller: asyncio.Task[None] | None = None
        self._generation = -1

    def _oscore(self) -> tuple[Any, Any]:
        """(outer site, server credentials) with OSCORE, or (site, None) without."""
        if self.oscore_credentials is None:
            return self.site, None
        try:
            from aiocoap.credentials import CredentialsMap
            from aiocoap.oscore_sitewrapper import OscoreSiteWrapper
        except ImportError:  # pragma: no cover - depends on the installed extra
            raise UnsupportedError("OSCORE needs aiocoap's oscore extra",
                                   hint="pip install 'aiocoap[oscore]'") from None
        path = Path(self.oscore_credentials)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
            creds = CredentialsMap()
            creds.load_from_dict(spec)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise InputError(f"cannot load OSCORE credentials {path}: {exc}") from None
        return OscoreSiteWrapper(self.site, creds), creds

    async def start(self, bind: tuple[str, int] = ("::", 5683)) -> int:
        site, creds = self._oscore()
        self.context = await aiocoap.Context.create_server_context(
            site, bind=bind, transports=["udp6"], server_credentials=creds
        )
        bound_deduplication(
            self.context, max_entries=self.limits.dedup_entries, lifetime=self.limits.dedup_lifetime
        )
        self.port = bound_port(self.context)
        self._generation = self.db.generation()
        self._poller = asyncio.ensure_future(self._poll())
        return self.port

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.limits.poll_interval)
            self.check_updates()

    def check_updates(self) -> int:
        """Notify observers if campaigns changed since the last check; returns notifications."""
        gen = self.db.generation()
        if gen == self._generation:
            return 0
        self._generation = gen
        return self.manifests.refresh()

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except asyncio.CancelledError:
                pass
            self._poller = None
        if self.context is not None:
            await self.context.shutdown()
            self.context = None
        self.store.close()
        self.db.close()
