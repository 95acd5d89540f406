"""`suit publish`, `suit serve`, `suit report list` as a user runs them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from suitlib.cli.serve import parse_bind
from suitlib.errors import InputError
from suitlib.transport.coap.client import CoapFetcher
from tests.helpers.coap_server import FAST

VECTORS = Path("/work/shared/vectors/suit")
CLASS = "1492af14-2569-5e48-bf42-9b2d51f2ab45"
SUIT = [sys.executable, "-m", "suitlib"]


def suit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SUIT, *args], capture_output=True, text=True, timeout=60)


def test_publish_reads_class_and_sequence_from_the_envelope(tmp_path: Path) -> None:
    payload = tmp_path / "fw.bin"
    payload.write_bytes(b"\x5a" * 5000)
    r = suit("publish", str(VECTORS / "example1-signed.cbor"), "--payload", str(payload),
             "--store", str(tmp_path / "st"), "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["class_id"] == CLASS and out["sequence"] == 1
    assert out["payloads"] == [hashlib.sha256(payload.read_bytes()).hexdigest()]
    stored = tmp_path / "st" / "payloads" / out["payloads"][0]
    assert stored.read_bytes() == payload.read_bytes()
    assert (tmp_path / "st" / "envelopes" / out["envelope"]).read_bytes() == (
        VECTORS / "example1-signed.cbor").read_bytes()


def test_publish_rejects_bad_input_with_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.cbor"
    junk.write_bytes(b"\x01\x02garbage")
    r = suit("publish", str(junk), "--store", str(tmp_path / "st"))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = suit("publish", str(VECTORS / "example0-signed.cbor"), "--store", str(tmp_path / "st"),
             "--class", "not-a-uuid")
    assert r.returncode == 2 and "UUID" in r.stderr
    r = suit("publish", str(tmp_path / "missing.cbor"), "--store", str(tmp_path / "st"))
    assert r.returncode == 2


@pytest.mark.parametrize("text,expected", [
    ("[::]:5683", ("::", 5683)), ("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]", ("::1", 5683)),
    ("localhost", ("localhost", 5683)),
])
def test_parse_bind(text: str, expected: tuple[str, int]) -> None:
    assert parse_bind(text) == expected


@pytest.mark.parametrize("text", ["1.2.3.4:x", "[::1", "h:70000"])
def test_parse_bind_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_bind(text)


def test_serve_end_to_end_and_graceful_shutdown(tmp_path: Path) -> None:
    store = tmp_path / "st"
    env = (VECTORS / "example0-signed.cbor").read_bytes()
    assert suit("publish", str(VECTORS / "example0-signed.cbor"), "--store", str(store)).returncode == 0
    proc = subprocess.Popen([*SUIT, "serve", "--store", str(store), "--bind", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line.startswith("listening on coap://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])

        async def talk() -> bytes:
            f = CoapFetcher(timing=FAST)
            got = await f.fetch_bytes(f"coap://127.0.0.1:{port}/suit/manifest/{CLASS}?dev=m1")
            await f.post(f"coap://127.0.0.1:{port}/suit/report?dev=m1", b"\xa1\x01\x02", szx=2)
            return got

        assert asyncio.run(asyncio.wait_for(talk(), 30)) == env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = -1
    assert rc == 0
    assert "shutting down" in proc.stderr.read()  # type: ignore[union-attr]
    r = suit("report", "list", "--store", str(store), "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 1 and rows[0]["device_id"] == "m1" and rows[0]["size"] == 3
    assert rows[0]["summary"]["format"] == "cbor-map"
    text = suit("report", "list", "--store", str(store))
    assert "m1" in text.stdout


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        t0 = time.monotonic()
        r = suit("serve", "--store", str(tmp_path / "st"), "--bind", f"127.0.0.1:{s.getsockname()[1]}")
        assert r.returncode == 2 and "cannot bind" in r.stderr
        assert time.monotonic() - t0 < 30
    finally:
        s.close()
