"""The journey with real processes: `suit serve`, then `suit sim mote` twice over one flash file
(the first run loses power mid-update, the second is a new process that finds nothing to do),
and `suit report list` showing the one success report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from suitlib.sim.manufacturer import delta_release, full_release

from tests.e2e.support import KEY, corpus_pair

REPO = Path(__file__).resolve().parents[2]


def suit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "suitlib", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=90, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_server_and_mote_as_processes(tmp_path: Path) -> None:
    old, new = corpus_pair("mbed-blinky-k64f")
    first, second = full_release(old, 1, "nrf52840", KEY), delta_release(old, new, 2, "nrf52840", KEY)
    for name, data in (("v1.bin", old), ("v1.suit", first.envelope), ("v2.suit", second.envelope),
                       ("v2.patch", second.payload), ("key.pub.pem", KEY.public_key().to_pem())):
        (tmp_path / name).write_bytes(data)
    assert suit("publish", "v2.suit", "--payload", "v2.patch", "--store", "store", cwd=tmp_path).returncode == 0
    server = subprocess.Popen([sys.executable, "-m", "suitlib", "serve", "--store", "store", "--bind", "127.0.0.1:0"],
                              cwd=tmp_path, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = server.stderr.readline()  # type: ignore[union-attr]
        assert "listening on coap://" in line, line
        uri = line.strip().rsplit(" ", 1)[1]
        common = ["sim", "mote", "--server", uri, "--trust", "key.pub.pem", "--flash", "mote.flash",
                  "--format", "json"]
        run1 = suit(*common, "--image", "v1.bin", "--envelope", "v1.suit", "--cut-op", "120", cwd=tmp_path)
        assert run1.returncode == 0, run1.stderr
        assert '"power_cuts": 1' in run1.stdout and '"outcome": "updated"' in run1.stdout
        assert "power-cut at flash op" in run1.stderr
        run2 = suit(*common, cwd=tmp_path)
        assert run2.returncode == 0, run2.stderr
        assert '"payload_bytes": 0' in run2.stdout and '"sequence": 2' in run2.stdout
        listing = suit("report", "list", "--store", "store", cwd=tmp_path)
        assert listing.returncode == 0 and listing.stdout.count("mote-1") == 1, listing.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
