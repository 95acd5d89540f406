"""`suit serve --oscore CREDS --require-auth`: OSCORE (RFC 8613) clients are served, plain
CoAP requests are refused with 4.01, a client with the wrong key gets nothing."""

from __future__ import annotations

import asyncio
import json
import os
import random
from pathlib import Path

import aiocoap
import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from suitlib.errors import InputError
from suitlib.server.app import ServerLimits, UpdateServer

PAYLOAD = random.Random(77).randbytes(5000)


def oscore_available() -> None:
    try:
        import aiocoap.oscore  # noqa: F401
        import cryptography  # noqa: F401
    except ImportError:
        pytest.fail("OSCORE needs aiocoap's oscore extra: pip install 'aiocoap[oscore]'")


def contexts(tmp: Path, secret: bytes) -> tuple[Path, Path]:
    """A throw-away OSCORE context pair (server sender 01, client sender 02)."""
    for role, sender, recipient in (("server", "01", "02"), ("client", "02", "01")):
        d = tmp / role
        d.mkdir()
        (d / "settings.json").write_text(json.dumps(
            {"sender-id_hex": sender, "recipient-id_hex": recipient, "secret_hex": secret.hex()}))
    server_creds = tmp / "server.json"
    server_creds.write_text(json.dumps({":client": {"oscore": {"basedir": str(tmp / "server") + "/"}}}))
    return server_creds, tmp / "client"


def test_oscore_protected_requests_are_served_plain_ones_refused(tmp_path: Path) -> None:
    oscore_available()
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    server_creds, client_dir = contexts(tmp_path / "good", os.urandom(16))
    _, wrong_dir = contexts(tmp_path / "bad", os.urandom(16))

    async def go() -> None:
        srv = UpdateServer(tmp_path / "store", ServerLimits(rate=0), oscore_credentials=server_creds,
                           require_auth=True)
        digest = srv.store.put("payloads", PAYLOAD)
        port = await srv.start(("127.0.0.1", 0))
        base = f"coap://127.0.0.1:{port}"
        try:
            plain = await aiocoap.Context.create_client_context()
            try:
                r = await asyncio.wait_for(plain.request(Message(code=Code.GET, uri=f"{base}/suit/payload/{digest}")).response, 10)
                assert r.code == Code.UNAUTHORIZED
                r = await asyncio.wait_for(plain.request(Message(code=Code.POST, uri=f"{base}/suit/report", payload=b"x")).response, 10)
                assert r.code == Code.UNAUTHORIZED
                wkc = await asyncio.wait_for(plain.request(Message(code=Code.GET, uri=f"{base}/.well-known/core")).response, 10)
                assert wkc.code == Code.CONTENT
            finally:
                await plain.shutdown()

            good = await aiocoap.Context.create_client_context()
            good.client_credentials.load_from_dict({f"{base}/*": {"oscore": {"basedir": str(client_dir) + "/"}}})
            try:
                m = Message(code=Code.GET, uri=f"{base}/suit/payload/{digest}")
                m.remote.maximum_block_size_exp = 4  # 256 B blocks inside OSCORE
                r = await asyncio.wait_for(good.request(m).response, 20)
                assert r.code == Code.CONTENT and r.payload == PAYLOAD
                r = await asyncio.wait_for(good.request(Message(code=Code.POST, uri=f"{base}/suit/report?dev=sec",
                                                                payload=b"\xa1\x01\x02")).response, 10)
                assert r.code == Code.CREATED
            finally:
                await good.shutdown()

            wrong = await aiocoap.Context.create_client_context()
            wrong.client_credentials.load_from_dict({f"{base}/*": {"oscore": {"basedir": str(wrong_dir) + "/"}}})
            try:
                m = Message(code=Code.GET, uri=f"{base}/suit/payload/{digest}")
                try:
                    answer = await asyncio.wait_for(wrong.request(m).response, 10)
                except (aiocoap.error.Error, asyncio.TimeoutError) as exc:
                    assert "Protected" in type(exc).__name__ or isinstance(exc, asyncio.TimeoutError), exc
                else:
                    assert answer.code != Code.CONTENT and answer.payload != PAYLOAD
            finally:
                await wrong.shutdown()
            assert [row["device_id"] for row in srv.db.reports()] == ["sec"]
            assert srv.site.refused == 2
        finally:
            await srv.stop()

    asyncio.run(asyncio.wait_for(go(), 60))


def test_require_auth_without_credentials_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        UpdateServer(tmp_path, require_auth=True)
