"""Report submission is idempotent per device: a re-sent report is stored once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from suitlib.server.db import UpdateDB


def _add(db: UpdateDB, device: str | None, body: bytes) -> int:
    return db.add_report(device, "127.0.0.1", body, hashlib.sha256(body).hexdigest(), {"result": "ok"})


def test_resent_report_is_stored_once(tmp_path: Path) -> None:
    db = UpdateDB(tmp_path / "db.sqlite")
    first = _add(db, "mote-1", b"\xa1\x04\xf5")
    generation = db.generation()
    again = _add(db, "mote-1", b"\xa1\x04\xf5")
    assert again == first
    assert [r["id"] for r in db.reports()] == [first]
    assert db.generation() == generation  # nothing changed, observers are not woken


def test_distinct_reports_and_devices_are_all_kept(tmp_path: Path) -> None:
    db = UpdateDB(tmp_path / "db.sqlite")
    ids = {_add(db, "mote-1", b"a"), _add(db, "mote-1", b"b"), _add(db, "mote-2", b"a"), _add(db, None, b"a")}
    assert len(ids) == 4
    assert len(db.reports()) == 4
    assert _add(db, None, b"a") in ids  # anonymous reports are deduplicated too
