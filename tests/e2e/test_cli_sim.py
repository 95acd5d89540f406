"""`suit sim fleet` and `suit sim mote` through the CLI (in-process runner)."""

from __future__ import annotations

import asyncio
import json
import threading

from click.testing import CliRunner

from suitlib.cli.main import cli
from suitlib.sim.manufacturer import delta_release, full_release

from tests.e2e.support import KEY, corpus_pair, update_server


def test_fleet_prints_a_summary_that_adds_up() -> None:
    result = CliRunner().invoke(cli, ["sim", "fleet", "-n", "12", "--loss", "0.05", "--ack-timeout", "0.2",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["problems"] == []
    assert summary["updated"] + summary["reverted"] + summary["failed"] + summary["not_offered_or_current"] == 12
    assert summary["server_reports"] == summary["updated"] + summary["reverted"]
    assert summary["bytes_on_air"] > summary["payload_bytes"] > 0


def test_mote_process_resumes_from_its_flash_file(tmp_path) -> None:
    old, new = corpus_pair("mbed-blinky-k64f")
    first = full_release(old, 1, "nrf52840", KEY)
    second = delta_release(old, new, 2, "nrf52840", KEY)
    for name, data in (("v1.bin", old), ("v1.suit", first.envelope)):
        (tmp_path / name).write_bytes(data)
    (tmp_path / "key.pub.pem").write_bytes(KEY.public_key().to_pem())
    ready, stop = threading.Event(), threading.Event()
    port: list[int] = []

    async def serve() -> None:
        async with update_server(tmp_path / "store", second) as server:
            port.append(server.port)
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        base = ["sim", "mote", "--server", f"coap://127.0.0.1:{port[0]}", "--trust", str(tmp_path / "key.pub.pem"),
                "--flash", str(tmp_path / "flash.bin"), "--format", "json"]
        runner = CliRunner()
        first_run = runner.invoke(cli, base + ["--image", str(tmp_path / "v1.bin"), "--envelope",
                                               str(tmp_path / "v1.suit"), "--cut-op", "60"])
        assert first_run.exit_code == 0, first_run.output
        out = json.loads(first_run.stdout.strip().splitlines()[-1])
        assert out["outcome"] == "updated" and out["power_cuts"] == 1 and out["sequence"] == 2
        again = runner.invoke(cli, base)  # a new process over the same flash file: nothing left to do
        assert again.exit_code == 0, again.output
        out = json.loads(again.stdout.strip().splitlines()[-1])
        assert out["payload_bytes"] == 0 and out["sequence"] == 2
        from suitlib.flash import FlashEmulator
        from suitlib.sim.mote import Mote

        flash = FlashEmulator.from_profile("nrf52840")
        flash.load(0, (tmp_path / "flash.bin").read_bytes())
        assert Mote("nrf52840", "coap://unused", [KEY.public_key()], flash=flash).running_image() == new
    finally:
        stop.set()
        thread.join(10)
