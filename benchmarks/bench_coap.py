#!/usr/bin/env python3
"""CoAP block-wise download: our fetcher vs aiocoap's client vs libcoap's coap-client,
all against `suit serve` (a separate process), on loopback, with and without loss.

Clients: our fetcher with its window (default 8) and fast retransmit, our fetcher lock-step
(window 1, to separate the window's gain from the implementation's), aiocoap's client, and
libcoap's coap-client.

Matrix (one run): 1 MiB at 1024 B blocks and 64 KiB at 64 B blocks, at 0 % and 10 % loss
(independent drops in both directions, seeded relay process). Then 200 concurrent block-wise
downloads against the server pinned to one core.

Timers: at 0 % loss everyone uses RFC 7252 defaults. Under loss, our fetcher and aiocoap use
the same scaled timers (ACK_TIMEOUT = --ack-timeout, default 0.2 s, other parameters RFC
7252), so the run takes minutes rather than an hour; coap-client cannot be tuned and keeps
2 s, and libcoap 4.3.1 stalls after 93 s (it exits 0 with a truncated file), so its lossy
runs are capped at 95 s and checked by digest.

Every transfer is checked byte-exact (SHA-256). Prints a markdown table; --json writes rows.
Finally the server's RSS growth over a 16,384-exchange transfer, with the default bound on
aiocoap's duplicate cache and without it.

Usage: python benchmarks/bench_coap.py [--reps 3] [--ack-timeout 0.2] [--concurrent 200]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiocoap  # noqa: E402
from aiocoap.numbers.constants import TransportTuning  # noqa: E402
from aiocoap.optiontypes import BlockOption  # noqa: E402

from suitlib.transport.coap.client import CoapFetcher, Timing  # noqa: E402
from suitlib.transport.download import BytesSink  # noqa: E402

PY = sys.executable
RESTARTS = [0]
SZX = {1024: 6, 64: 2}


def cpu_of(pid: int) -> float:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


MEMORY_SERVER = """
import asyncio, sys
from suitlib.server.app import ServerLimits, UpdateServer
async def main():
    srv = UpdateServer(sys.argv[1], ServerLimits(rate=0, dedup_entries=int(sys.argv[2])))
    port = await srv.start(("127.0.0.1", 0))
    print(f"listening on coap://127.0.0.1:{port}", file=sys.stderr, flush=True)
    await asyncio.get_running_loop().create_future()
asyncio.run(main())
"""


def start_server(store: Path, core: int | None, dedup: int | None = None) -> tuple[subprocess.Popen[str], int]:
    if dedup is None:
        cmd = [PY, "-m", "suitlib", "serve", "--store", str(store), "--bind", "127.0.0.1:0", "--rate", "0"]
    else:  # same server with another duplicate-cache bound
        cmd = [PY, "-c", MEMORY_SERVER, str(store), str(dedup)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    line = proc.stderr.readline()  # type: ignore[union-attr]
    if not line.startswith("listening on"):
        proc.kill()
        raise SystemExit(f"server did not start: {line}")
    if core is not None:
        os.sched_setaffinity(proc.pid, {core})
    return proc, int(line.rsplit(":", 1)[1])


def start_relay(server_port: int, loss: float, seed: int) -> tuple[subprocess.Popen[str], int]:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([PY, "-m", "tests.helpers.lossy_relay", str(port), str(server_port),
                             str(loss), str(seed)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc, port


def stop(proc: subprocess.Popen[str] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ScaledTuning(TransportTuning):
    ACK_TIMEOUT = 2.0


async def ours(uri: str, block: int, timing: Timing, window: int, reorder_bytes: int) -> tuple[bytes, float]:
    sink = BytesSink()
    reorder = max(4 * window, reorder_bytes // block)
    t0 = time.perf_counter()
    await CoapFetcher(timing=timing, szx=SZX[block], window=window, reorder=reorder).fetch(uri, sink)
    return sink.getvalue(), time.perf_counter() - t0


async def aiocoap_plain(uri: str, block: int, ack: float | None) -> tuple[bytes, float]:
    ctx = await aiocoap.Context.create_client_context()
    try:
        kw = {}
        if ack is not None:
            tuning = type("T", (TransportTuning,), {"ACK_TIMEOUT": ack})()
            kw["transport_tuning"] = tuning
        req = aiocoap.Message(code=aiocoap.GET, uri=uri, **kw)
        req.opt.block2 = BlockOption.BlockwiseTuple(0, False, SZX[block])
        req.remote.maximum_block_size_exp = SZX[block]
        t0 = time.perf_counter()
        res = await ctx.request(req).response
        return res.payload, time.perf_counter() - t0
    finally:
        await ctx.shutdown()


def libcoap(uri: str, block: int, cap: float, out: Path) -> tuple[bytes, float]:
    if out.exists():
        out.unlink()
    t0 = time.perf_counter()
    try:
        subprocess.run(["coap-client-notls", "-m", "get", "-b", str(block), "-B", str(int(cap)),
                        "-o", str(out), uri], capture_output=True, timeout=cap + 10)
    except subprocess.TimeoutExpired:
        pass
    dt = time.perf_counter() - t0
    return (out.read_bytes() if out.exists() else b""), dt


def run_one(kind: str, uri: str, block: int, loss: float, a: argparse.Namespace, tmp: Path) -> tuple[bytes, float]:
    ack = a.ack_timeout if loss else None
    if kind in ("ours", "ours-w1"):
        timing = Timing(ack_timeout=ack) if ack else Timing()
        window = a.window if kind == "ours" else 1  # ours-w1: lock-step, NSTART = 1
        return asyncio.run(asyncio.wait_for(ours(uri, block, timing, window, a.reorder_bytes), a.timeout))
    if kind == "aiocoap":
        # A plain client cannot resume: when one exchange exhausts its retransmissions the
        # whole GET fails, and the application can only start over. Time includes restarts.
        spent = 0.0
        for attempt in range(a.plain_attempts):
            t0 = time.perf_counter()
            try:
                got, _ = asyncio.run(asyncio.wait_for(aiocoap_plain(uri, block, ack), a.timeout))
                return got, spent + time.perf_counter() - t0
            except Exception as exc:  # noqa: BLE001 - counted, then the download starts over
                spent += time.perf_counter() - t0
                RESTARTS[0] += 1
                print(f"  aiocoap attempt {attempt} failed after {spent:.1f} s: {type(exc).__name__}",
                      file=sys.stderr, flush=True)
        return b"", spent
    return libcoap(uri, block, 95.0 if loss else a.timeout, tmp / "cc.bin")


async def concurrent(port: int, digest: str, size: int, n: int, block: int) -> dict[str, object]:
    uri = f"coap://127.0.0.1:{port}/suit/payload/{digest}"
    fetcher = CoapFetcher(szx=SZX[block], window=1)

    async def one(i: int) -> bool:
        sink = BytesSink()
        try:
            await fetcher.fetch(uri, sink)
        except Exception as exc:  # noqa: BLE001 - counted as a failed transfer
            print(f"  transfer {i} failed: {exc}", file=sys.stderr)
            return False
        return hashlib.sha256(sink.getvalue()).hexdigest() == digest

    t0 = time.perf_counter()
    ok = await asyncio.gather(*(one(i) for i in range(n)))
    dt = time.perf_counter() - t0
    return {"transfers": n, "failed": n - sum(ok), "seconds": dt,
            "KiB_per_s": n * size / 1024 / dt}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3, help="runs per cell at 0%% loss (median)")
    ap.add_argument("--lossy-reps", type=int, default=1)
    ap.add_argument("--ack-timeout", type=float, default=0.2)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--reorder-bytes", type=int, default=8192,
                    help="RAM for out-of-order blocks (reorder = max(4*window, this/block))")
    ap.add_argument("--concurrent", type=int, default=200)
    ap.add_argument("--concurrent-size", type=int, default=64 * 1024)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--plain-attempts", type=int, default=5,
                    help="aiocoap client: whole-download restarts allowed after a failure")
    ap.add_argument("--skip-lossy", action="store_true")
    ap.add_argument("--clients", default="ours,ours-w1,aiocoap,libcoap",
                    help="ours (window), ours-w1 (lock-step), aiocoap, libcoap; ours must be first")
    ap.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True,
                    help="measure server RSS over a 16,384-exchange transfer, dedup bound on/off")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if shutil.which("coap-client-notls") is None:
        raise SystemExit("coap-client-notls missing: apt-get install -y libcoap3-bin")
    rng = random.Random(2026)
    images = {1024: rng.randbytes(1 << 20), 64: rng.randbytes(64 << 10)}
    tmp = Path(tempfile.mkdtemp(prefix="bench_coap_"))
    store = tmp / "store"
    from suitlib.server.app import open_store

    st, db = open_store(store)
    digests = {b: st.put("payloads", data) for b, data in images.items()}
    conc_data = rng.randbytes(a.concurrent_size)
    conc_digest = st.put("payloads", conc_data)
    st.close()
    db.close()
    rows: list[dict[str, object]] = []
    cores = sorted(os.sched_getaffinity(0))
    server, port = start_server(store, cores[0] if len(cores) > 1 else None)
    if len(cores) > 1:
        os.sched_setaffinity(0, set(cores[1:]))  # clients on the other core(s)
    try:
        for loss in ([0.0] if a.skip_lossy else [0.0, 0.1]):
            for block, data in images.items():
                for kind in a.clients.split(","):
                    reps = a.reps if loss == 0 else a.lossy_reps
                    times, oks, got_len = [], [], 0
                    RESTARTS[0] = 0
                    cpu0 = cpu_of(server.pid)
                    for rep in range(reps):
                        relay = None
                        try:
                            p = port
                            if loss:
                                relay, p = start_relay(port, loss, 100 + rep)
                            uri = f"coap://127.0.0.1:{p}/suit/payload/{digests[block]}"
                            try:
                                got, dt = run_one(kind, uri, block, loss, a, tmp)
                            except Exception as exc:  # noqa: BLE001 - a failed run is reported
                                print(f"  {kind} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                                got, dt = b"", float("nan")
                        finally:
                            stop(relay)
                        ok = hashlib.sha256(got).hexdigest() == digests[block]
                        times.append(dt)
                        oks.append(ok)
                        got_len = len(got)
                        print(f"{kind:8} {len(data) >> 10:5} KiB @{block:4} loss {loss:.0%} run {rep}: "
                              f"{dt:7.2f} s ok={ok} ({len(got)} B)", file=sys.stderr, flush=True)
                    med = statistics.median(times)
                    rows.append(dict(client=kind, size=len(data), block=block, loss=loss,
                                     ok=all(oks), runs=times, seconds=med, bytes_last=got_len,
                                     restarts=RESTARTS[0],
                                     KiB_per_s=(len(data) / 1024 / med) if all(oks) else 0.0,
                                     server_cpu=(cpu_of(server.pid) - cpu0) / reps))
        rss0 = rss_kib(server.pid)
        cpu0 = cpu_of(server.pid)
        conc = asyncio.run(concurrent(port, conc_digest, a.concurrent_size, a.concurrent, 1024))
        conc["server_cpu"] = cpu_of(server.pid) - cpu0
        conc["server_rss_kib_before"] = rss0
        conc["server_rss_kib_after"] = rss_kib(server.pid)
    finally:
        stop(server)
    memory = []
    try:
        if a.memory:
            # RSS growth of the server over one 16,384-exchange transfer (1 MiB at 64 B blocks),
            # with the default duplicate-cache bound and with it effectively off (aiocoap as is).
            for dedup in (4096, 10**9):
                srv, mport = start_server(store, None, dedup)
                try:
                    time.sleep(0.5)
                    before = rss_kib(srv.pid)
                    uri = f"coap://127.0.0.1:{mport}/suit/payload/{digests[1024]}"
                    got, dt = asyncio.run(ours(uri, 64, Timing(), a.window, a.reorder_bytes))
                    memory.append(dict(dedup_entries=dedup, ok=got == images[1024], seconds=dt,
                                       rss_before_kib=before, rss_after_kib=rss_kib(srv.pid)))
                finally:
                    stop(srv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def cell(kind: str, block: int, loss: float) -> dict[str, object]:
        return next(r for r in rows if r["client"] == kind and r["block"] == block and r["loss"] == loss)

    print("\n| image | block | loss | client | ok | seconds (median) | KiB/s | server CPU s | restarts | ours ÷ this |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        base = cell("ours", r["block"], r["loss"])  # type: ignore[arg-type]
        ratio = (float(r["seconds"]) and float(base["seconds"]) / float(r["seconds"])) if r["ok"] else float("nan")
        speed = (1 / ratio) if ratio == ratio and ratio else float("nan")
        print(f"| {int(r['size']) >> 10} KiB | {r['block']} | {float(r['loss']):.0%} | {r['client']} | "
              f"{r['ok']} | {float(r['seconds']):.2f} | {float(r['KiB_per_s']):.0f} | "
              f"{float(r['server_cpu']):.2f} | {r['restarts']} | "
              f"{'%.2fx' % speed if r['client'] != 'ours' else '-'} |")
    print(f"\nconcurrent: {conc['transfers']} x {a.concurrent_size >> 10} KiB @1024, server on one core: "
          f"failed {conc['failed']}, {float(conc['seconds']):.2f} s, {float(conc['KiB_per_s']):.0f} KiB/s, "
          f"server CPU {float(conc['server_cpu']):.2f} s, RSS {conc['server_rss_kib_before']} -> "
          f"{conc['server_rss_kib_after']} KiB")
    for m in memory:
        bound = "off (aiocoap default)" if m["dedup_entries"] >= 10**9 else m["dedup_entries"]
        print(f"memory: 16384 exchanges (1 MiB @64), dedup bound {bound}: ok={m['ok']}, "
              f"server RSS {m['rss_before_kib']} -> {m['rss_after_kib']} KiB")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": rows, "concurrent": conc, "memory": memory}, indent=1))


if __name__ == "__main__":
    main()
