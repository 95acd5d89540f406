"""Device registry, envelopes, campaigns and reports in SQLite (``DIR/suit.db``).

Every write is one transaction, so a crash leaves either the old or the new state. The schema
is created on first use; ``PRAGMA user_version`` records its version.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suitlib.errors import InputError
from suitlib.server.rollout import in_rollout

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS envelopes (
    digest TEXT PRIMARY KEY,            -- sha256 hex of the envelope bytes
    class_id TEXT NOT NULL,
    sequence INTEGER,                   -- manifest sequence number, if read
    size INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    envelope TEXT NOT NULL REFERENCES envelopes(digest),
    class_id TEXT NOT NULL,
    device_id TEXT,                     -- NULL: the whole class
    percent INTEGER NOT NULL DEFAULT 100 CHECK (percent BETWEEN 0 AND 100),
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS campaigns_by_class ON campaigns(class_id, device_id);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    class_id TEXT,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    last_address TEXT
);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT,
    address TEXT,
    received REAL NOT NULL,
    size INTEGER NOT NULL,
    digest TEXT NOT NULL,
    summary TEXT NOT NULL,              -- JSON
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', 0);
"""


def normalize_class(class_id: str) -> str:
    """A class id as lower-case canonical UUID text (raises InputError otherwise)."""
    try:
        return str(uuid.UUID(class_id))
    except (ValueError, AttributeError, TypeError):
        raise InputError(f"not a UUID: {class_id!r}", hint="class ids are RFC 9562 UUIDs") from None


@dataclass(frozen=True)
class Campaign:
    id: int
    envelope: str
    class_id: str
    device_id: str | None
    percent: int
    sequence: int | None


class UpdateDB:
    """Thin typed access to the server's SQLite database."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    def _tx(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(sql, args)
            cur.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return cur

    def generation(self) -> int:
        """A counter bumped by every write (the server polls it to notify observers)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    # -- publishing ----------------------------------------------------------------------

    def add_envelope(self, digest: str, class_id: str, sequence: int | None, size: int) -> None:
        self._tx(
            "INSERT OR IGNORE INTO envelopes(digest, class_id, sequence, size, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (digest, normalize_class(class_id), sequence, size, time.time()),
        )

    def add_campaign(
        self, envelope: str, class_id: str, device_id: str | None = None, percent: int = 100
    ) -> int:
        if not 0 <= percent <= 100:
            raise InputError(f"rollout percentage {percent} is not within 0..100")
        cur = self._tx(
            "INSERT INTO campaigns(envelope, class_id, device_id, percent, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (envelope, normalize_class(class_id), device_id, percent, time.time()),
        )
        return int(cur.lastrowid or 0)

    def campaigns(self) -> list[Campaign]:
        rows = self.conn.execute(
            "SELECT c.id, c.envelope, c.class_id, c.device_id, c.percent, e.sequence "
            "FROM campaigns c JOIN envelopes e ON e.digest = c.envelope ORDER BY c.id"
        ).fetchall()
        return [Campaign(*r) for r in rows]

    def select(self, class_id: str, device_id: str | None) -> Campaign | None:
        """The campaign a device (or an anonymous requester) of ``class_id`` gets, if any.

        A device-specific campaign wins; otherwise the newest class campaign whose rollout
        includes the device.
        """
        cls = normalize_class(class_id)
        if device_id is not None:
            row = self.conn.execute(
                "SELECT c.id, c.envelope, c.class_id, c.device_id, c.percent, e.sequence "
                "FROM campaigns c JOIN envelopes e ON e.digest = c.envelope "
                "WHERE c.class_id = ? AND c.device_id = ? ORDER BY c.id DESC LIMIT 1",
                (cls, device_id),
            ).fetchone()
            if row is not None:
                return Campaign(*row)
        rows = self.conn.execute(
            "SELECT c.id, c.envelope, c.class_id, c.device_id, c.percent, e.sequence "
            "FROM campaigns c JOIN envelopes e ON e.digest = c.envelope "
            "WHERE c.class_id = ? AND c.device_id IS NULL ORDER BY c.id DESC",
            (cls,),
        ).fetchall()
        for row in rows:
            camp = Campaign(*row)
            if in_rollout(camp.envelope, device_id, camp.percent):
                return camp
        return None

    # -- devices and reports -------------------------------------------------------------

    def seen(self, device_id: str, class_id: str | None, address: str) -> None:
        now = time.time()
        self._tx(
            "INSERT INTO devices(device_id, class_id, first_seen, last_seen, last_address) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET "
            "last_seen = excluded.last_seen, last_address = excluded.last_address, "
            "class_id = COALESCE(excluded.class_id, devices.class_id)",
            (device_id, class_id, now, now, address),
        )

    def devices(self) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT device_id, class_id, first_seen, last_seen, last_address FROM devices "
            "ORDER BY device_id"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def add_report(
        self, device_id: str | None, address: str, body: bytes, digest: str, summary: dict[str, Any]
    ) -> int:
        """Store a report; a byte-identical report from the same device is stored once.

        A device whose POST timed out re-sends the same report (a new CoAP exchange, so the
        message layer cannot see the duplicate): submission is idempotent per (device, digest),
        and the id of the report already stored is returned.
        """
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            row = cur.execute(
                "SELECT id FROM reports WHERE device_id IS ? AND digest = ? LIMIT 1", (device_id, digest)
            ).fetchone()
            if row is not None:
                cur.execute("COMMIT")
                return int(row[0])
            cur.execute(
                "INSERT INTO reports(device_id, address, received, size, digest, summary, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (device_id, address, time.time(), len(body), digest, json.dumps(summary, sort_keys=True), body),
            )
            cur.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return int(cur.lastrowid or 0)

    def reports(self, device_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        sql = "SELECT id, device_id, address, received, size, digest, summary FROM reports"
        args: tuple[Any, ...] = ()
        if device_id is not None:
            sql += " WHERE device_id = ?"
            args = (device_id,)
        sql += " ORDER BY id LIMIT ?"
        out = []
        for r in self.conn.execute(sql, args + (limit,)).fetchall():
            out.append(
                dict(id=r[0], device_id=r[1], address=r[2], received=r[3], size=r[4],
                     digest=r[5], summary=json.loads(r[6]))
            )
        return out

    def report_body(self, report_id: int) -> bytes | None:
        row = self.conn.execute("SELECT body FROM reports WHERE id = ?", (report_id,)).fetchone()
        return None if row is None else bytes(row[0])
