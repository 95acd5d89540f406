"""Delta patches on the shared firmware corpus: our format beside the peers, in one run.

Prints, per corpus pair: patch sizes (ours sequential and in-place with a <= 32 KiB applier;
bsdiff4; detools sequential lzma / heatshrink, in-place 64 KiB lzma, data-format lzma,
hdiffpatch-type lzma; HDiffPatch lzma; HPatchLite tuz 4K/32K; zstd raw-dictionary when the
`zstandard` module is present), creation and apply times, and our applier RAM. Then the
targets: smaller than every MCU-grade peer (<= ~32 KiB applier RAM: detools heatshrink,
HPatchLite tuz) on every pair; geometric mean vs the best patch of any tool; in-place cost;
creation time vs detools; host apply speed.

Peers are for comparison only (`pip install -e '.[bench]'`); suitlib never imports them.
Usage: python benchmarks/bench_delta.py [--corpus DIR] [--json OUT] [--pairs NAME ...]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from suitlib.delta.apply import apply_patch, describe  # noqa: E402
from suitlib.delta.create import CreateOptions, create_patch  # noqa: E402
from suitlib.delta.format import decode_varint, parse_header  # noqa: E402

try:
    import bsdiff4
    import detools
    import hdiffpatch
except ImportError as exc:  # pragma: no cover - the bench extra is missing
    sys.exit(f"bench_delta needs the bench extra (pip install -e '.[bench]'): {exc}")
try:
    import zstandard
except ImportError:  # optional peer
    zstandard = None

RAM = 32 * 1024
MCU_PEERS = ("dt seq hs", "HPatchLite tuz4K", "HPatchLite tuz32K")


def timed(fn, *args, repeat: int = 1, **kw):  # type: ignore[no-untyped-def]
    """Result and the best CPU time (process_time: single-threaded work, robust to a busy host)."""
    best = math.inf
    out = None
    for _ in range(repeat):
        start = time.process_time()
        out = fn(*args, **kw)
        best = min(best, time.process_time() - start)
    return out, best


def dt_create(old: bytes, new: bytes, **kw) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    kw.setdefault("use_mmap", False)
    detools.create_patch(io.BytesIO(old), io.BytesIO(new), out, **kw)
    return out.getvalue()


def dt_apply(old: bytes, patch: bytes) -> bytes:
    out = io.BytesIO()
    detools.apply_patch(io.BytesIO(old), io.BytesIO(patch), out)
    return out.getvalue()


def dt_apply_in_place(old: bytes, patch: bytes, memory: int, size: int) -> bytes:
    mem = bytearray(memory)
    mem[: len(old)] = old
    f = io.BytesIO(bytes(mem))
    detools.apply_patch_in_place(f, io.BytesIO(patch))
    return f.getvalue()[:size]


def largest_chunk(patch: bytes) -> int:
    """Bytes of the largest body chunk section: the most a resumed download fetches again."""
    header = parse_header(patch)
    assert header is not None
    pos = header.header_size
    sections = []
    while pos < len(patch):
        got = decode_varint(patch, pos)
        assert got is not None
        length, data = got
        sections.append(data - pos + length)
        pos = data + length
    body = sections[1:] if header.transform else sections
    return max(body, default=0)


def measure(name: str, old: bytes, new: bytes, data_format: str | None) -> dict:
    row: dict = {"pair": name, "new": len(new)}
    ours, t_create = timed(create_patch, old, new, CreateOptions(ram=RAM), repeat=2)
    out, t_apply = timed(apply_patch, old, ours, repeat=5)
    assert out == new
    fast, t_create_fast = timed(create_patch, old, new, CreateOptions(ram=RAM, nice_len=128),
                                repeat=2)
    assert apply_patch(old, fast) == new
    small, t_create_lzss = timed(create_patch, old, new, CreateOptions(ram=RAM, compression=2))
    out, t_apply_lzss = timed(apply_patch, old, small, repeat=3)
    assert out == new
    inp, t_create_ip = timed(create_patch, old, new, CreateOptions(ram=RAM, in_place=True))
    assert apply_patch(old, inp) == new
    info = describe(ours)
    row.update({"ours seq": len(ours), "ours in-place": len(inp), "ours fast": len(fast),
                "create fast s": t_create_fast, "ours lzss": len(small),
                "ram lzss": describe(small)["ram_bytes"], "create lzss s": t_create_lzss,
                "apply lzss s": t_apply_lzss, "largest chunk": largest_chunk(ours),
                "chunks": describe(ours)["chunk_count"], "ram": info["ram_bytes"],
                "ram in-place": describe(inp)["ram_bytes"], "create s": t_create,
                "create in-place s": t_create_ip, "apply s": t_apply})

    p = bsdiff4.diff(old, new)
    assert bsdiff4.patch(old, p) == new
    row["bsdiff4"] = len(p)
    p, row["dt create s"] = timed(dt_create, old, new, compression="lzma", repeat=2)
    assert dt_apply(old, p) == new
    row["dt seq lzma"] = len(p)
    p = dt_create(old, new, compression="heatshrink")
    assert dt_apply(old, p) == new
    row["dt seq hs"] = len(p)
    seg = 64 * 1024
    memory = -(-max(len(old), len(new)) // seg) * seg + 2 * seg
    p = dt_create(old, new, compression="lzma", patch_type="in-place", memory_size=memory,
                  segment_size=seg)
    assert dt_apply_in_place(old, p, memory, len(new)) == new
    row["dt in-place64K lzma"] = len(p)
    if data_format:
        p = dt_create(old, new, compression="lzma", data_format=data_format)
        assert dt_apply(old, p) == new
        row["dt data-fmt lzma"] = len(p)
    p = dt_create(old, new, compression="lzma", algorithm="hdiffpatch", patch_type="hdiffpatch")
    assert dt_apply(old, p) == new
    row["dt hdiffpatch lzma"] = len(p)
    p = hdiffpatch.diff(old, new, "lzma")
    assert hdiffpatch.apply(old, p) == new
    row["HDiffPatch lzma"] = len(p)
    for dict_size, label in ((4096, "HPatchLite tuz4K"), (32768, "HPatchLite tuz32K")):
        p = hdiffpatch.diff_lite(old, new, compression=hdiffpatch.TuzConfig(dict_size=dict_size))
        assert hdiffpatch.apply_lite(old, p) == new
        row[label] = len(p)
    if zstandard is not None:
        d = zstandard.ZstdCompressionDict(old, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        p = zstandard.ZstdCompressor(level=19, dict_data=d).compress(new)
        row["zstd rawdict"] = len(p)
    peers = [k for k in row if k not in ("pair", "new", "ram", "ram in-place", "ram lzss", "chunks",
                                         "largest chunk")
             and not k.endswith(" s") and not k.startswith("ours")]
    row["best any"] = min(row[k] for k in peers)
    row["best any tool"] = min(peers, key=lambda k: row[k])
    row["best mcu"] = min(row[k] for k in MCU_PEERS)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "firmware")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--pairs", nargs="*")
    args = ap.parse_args()
    index = json.loads((args.corpus / "pairs.json").read_text())["pairs"]
    rows = []
    for entry in index:
        if args.pairs and entry["name"] not in args.pairs:
            continue
        folder = args.corpus / entry["name"]
        old, new = (folder / "old.bin").read_bytes(), (folder / "new.bin").read_bytes()
        rows.append(measure(entry["name"], old, new, entry.get("detools_data_format")))
        print(f"measured {entry['name']}", file=sys.stderr)

    size_cols = ["ours seq", "ours in-place", "ours fast", "ours lzss", "bsdiff4", "dt seq lzma", "dt seq hs",
                 "dt in-place64K lzma", "dt data-fmt lzma", "dt hdiffpatch lzma", "HDiffPatch lzma",
                 "HPatchLite tuz4K", "HPatchLite tuz32K", "zstd rawdict"]
    size_cols = [c for c in size_cols if any(c in r for r in rows)]
    print("\n## Patch sizes (bytes); ours with an applier of <= 32 KiB RAM\n")
    print("| pair | new | " + " | ".join(size_cols) + " | ours RAM |")
    print("|---|---:|" + "---:|" * len(size_cols) + "---:|")
    for r in rows:
        cells = [f"{r[c]:,}" if c in r else "-" for c in size_cols]
        print(f"| {r['pair']} | {r['new']:,} | " + " | ".join(cells) + f" | {r['ram']:,} |")

    print("\n## Times (CPU seconds on the host, best of 2-5 runs) and ratios\n")
    print("| pair | ours create | ours in-place create | dt seq lzma create | create / dt | "
          "--fast create / dt | --fast size / seq | "
          "ours apply | apply MB/s | ours / best MCU peer | ours / best any (tool) | "
          "in-place / seq | chunks | largest chunk (resume re-fetch) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    logs_any, logs_mcu = [], []
    for r in rows:
        mbps = r["new"] / r["apply s"] / 1e6
        vs_mcu = r["ours seq"] / r["best mcu"]
        vs_any = r["ours seq"] / r["best any"]
        logs_any.append(math.log(vs_any))
        logs_mcu.append(math.log(vs_mcu))
        print(f"| {r['pair']} | {r['create s']:.3f} | {r['create in-place s']:.3f} | "
              f"{r['dt create s']:.3f} | {r['create s'] / r['dt create s']:.1f}x | "
              f"{r['create fast s'] / r['dt create s']:.1f}x | {r['ours fast'] / r['ours seq']:.3f} | "
              f"{r['apply s']:.4f} | {mbps:.1f} | {vs_mcu:.3f} | {vs_any:.3f} ({r['best any tool']}) | "
              f"{r['ours in-place'] / r['ours seq']:.3f} | {r['chunks']} | {r['largest chunk']:,} |")

    n = len(rows)
    geo_any = math.exp(sum(logs_any) / n)
    geo_mcu = math.exp(sum(logs_mcu) / n)
    smaller_all = all(r["ours seq"] < r["best mcu"] for r in rows)
    worst_ip = max(r["ours in-place"] / r["ours seq"] for r in rows)
    worst_create = max(r["create s"] / r["dt create s"] for r in rows)
    within = sum(r["create s"] / r["dt create s"] <= 3 for r in rows)
    worst_fast = max(r["create fast s"] / r["dt create s"] for r in rows)
    within_fast = sum(r["create fast s"] / r["dt create s"] <= 3 for r in rows)
    geo_fast = math.exp(sum(math.log(r["ours fast"] / r["ours seq"]) for r in rows) / n)
    min_mbps = min(r["new"] / r["apply s"] / 1e6 for r in rows)
    max_ram = max(max(r["ram"], r["ram in-place"]) for r in rows)
    print("\n## Targets\n")
    print(f"- applier RAM (largest declared): {max_ram:,} bytes (target <= 32,768): "
          f"{'met' if max_ram <= 32768 else 'MISSED'}")
    print(f"- smaller than every MCU-grade peer on every pair: {'met' if smaller_all else 'MISSED'} "
          f"(geometric mean ours / best MCU peer = {geo_mcu:.3f})")
    print(f"- geometric mean ours / best of any tool = {geo_any:.3f} (target <= 1.05, aim < 1.0): "
          f"{'met' if geo_any <= 1.05 else 'MISSED'}")
    print(f"- in-place / sequential, worst pair = {worst_ip:.3f} (target <= 1.05): "
          f"{'met' if worst_ip <= 1.05 else 'MISSED'}")
    print(f"- creation / detools seq lzma, worst pair = {worst_create:.1f}x (target <= 3x): "
          f"{'met' if worst_create <= 3 else 'MISSED'} ({within}/{n} pairs within 3x); "
          f"--fast: worst {worst_fast:.1f}x ({within_fast}/{n} within), "
          f"size x{geo_fast:.3f} (geometric mean)")
    print(f"- host apply, slowest pair = {min_mbps:.1f} MB/s (target >= 2): "
          f"{'met' if min_mbps >= 2 else 'MISSED'}")

    print("\n## Lowest-RAM option: LZSS (1 KiB window)\n")
    print("| pair | ours lzss | RAM | dt seq hs | HPatchLite tuz4K | lzss / dt hs | "
          "lzss / best MCU peer | lzss / ours lzma | create s | apply MB/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['pair']} | {r['ours lzss']:,} | {r['ram lzss']:,} | {r['dt seq hs']:,} | "
              f"{r['HPatchLite tuz4K']:,} | {r['ours lzss'] / r['dt seq hs']:.3f} | "
              f"{r['ours lzss'] / r['best mcu']:.3f} | {r['ours lzss'] / r['ours seq']:.3f} | "
              f"{r['create lzss s']:.3f} | {r['new'] / r['apply lzss s'] / 1e6:.1f} |")
    geo = lambda key, ref: math.exp(sum(math.log(r[key] / r[ref]) for r in rows) / n)  # noqa: E731
    print(f"\n- LZSS applier RAM (largest declared): {max(r['ram lzss'] for r in rows):,} bytes "
          f"(LZMA: {max_ram:,})")
    print(f"- geometric mean lzss / detools heatshrink = {geo('ours lzss', 'dt seq hs'):.3f}; "
          f"smaller on {sum(r['ours lzss'] < r['dt seq hs'] for r in rows)}/{n} pairs")
    print(f"- geometric mean lzss / best MCU peer = {geo('ours lzss', 'best mcu'):.3f}; "
          f"smaller on {sum(r['ours lzss'] < r['best mcu'] for r in rows)}/{n} pairs")
    print(f"- geometric mean lzss / ours lzma = {geo('ours lzss', 'ours seq'):.3f}")
    print(f"- LZSS host apply, slowest pair = "
          f"{min(r['new'] / r['apply lzss s'] / 1e6 for r in rows):.1f} MB/s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
