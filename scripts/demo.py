#!/usr/bin/env python3
"""The manufacturer flow, narrated: keygen, create, sign, verify, inspect (run by `make demo`).

Inputs: the spec's example 0 and 1 (written out as YAML specs here, and checked byte for byte
against the official unsigned envelopes) and a real firmware image from the shared corpus.
Outputs go to ``demo-out/``. Every step runs the real `suit` command; the script exits non-zero
as soon as a step does not give the expected result.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SUITLIB_SHARED", REPO.parent / "shared"))
VECTORS = SHARED / "vectors" / "suit"
CORPUS = SHARED / "corpus" / "firmware"
OUT = REPO / "demo-out"
PASSWORD_VAR = "SUIT_DEMO_KEY_PASSWORD"

console = Console(highlight=False)

IDENTITY = """\
      - suit-directive-override-parameters:
          suit-parameter-vendor-identifier: {uuid5: {namespace: dns, name: arm.com}}
          suit-parameter-class-identifier:
            uuid5: {namespace: fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe, name: suit}
"""

EXAMPLE0 = """\
# draft-ietf-suit-manifest-34, example 0: secure boot
suit-manifest:
  suit-manifest-version: 1
  suit-manifest-sequence-number: 0
  suit-common:
    suit-components: [["00"]]
    suit-shared-sequence:
""" + IDENTITY + """\
          suit-parameter-image-digest:
            suit-digest-algorithm-id: sha256
            suit-digest-bytes: 00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210
          suit-parameter-image-size: 34768
      - suit-condition-vendor-identifier: 15
      - suit-condition-class-identifier: 15
  suit-validate:
    - suit-condition-image-match: 15
  suit-invoke:
    - suit-directive-invoke: 2
"""

EXAMPLE1 = """\
# draft-ietf-suit-manifest-34, example 1: simultaneous download and installation
suit-manifest:
  suit-manifest-version: 1
  suit-manifest-sequence-number: 1
  suit-common:
    suit-components: [["00"]]
    suit-shared-sequence:
""" + IDENTITY + """\
          suit-parameter-image-digest:
            suit-digest-algorithm-id: sha256
            suit-digest-bytes: 00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210
          suit-parameter-image-size: 34768
      - suit-condition-vendor-identifier: 15
      - suit-condition-class-identifier: 15
  suit-validate:
    - suit-condition-image-match: 15
  suit-install:
    - suit-directive-override-parameters:
        suit-parameter-uri: http://example.com/file.bin
    - suit-directive-fetch: 2
    - suit-condition-image-match: 15
"""

FIRMWARE = """\
# A real image: {name}/new.bin ({mcu}); digest and size come from the file.
suit-manifest:
  suit-manifest-version: 1
  suit-manifest-sequence-number: 2
  suit-common:
    suit-components: [["00"]]
    suit-shared-sequence:
      - suit-directive-override-parameters:
          suit-parameter-vendor-identifier: {{uuid5: {{namespace: dns, name: example.com}}}}
          suit-parameter-class-identifier:
            uuid5: {{namespace: dns, name: k64f.blinky.example.com}}
          suit-parameter-image-digest: {{file: firmware.bin}}
          suit-parameter-image-size: {{file: firmware.bin}}
      - suit-condition-vendor-identifier: 15
      - suit-condition-class-identifier: 15
  suit-validate:
    - suit-condition-image-match: 15
  suit-install:
    - suit-directive-override-parameters:
        suit-parameter-uri: coap://updates.example.com/suit/payload/blinky-new.bin
    - suit-directive-fetch: 2
    - suit-condition-image-match: 15
  suit-invoke:
    - suit-directive-invoke: 2
"""


class DemoFailure(Exception):
    pass


def suit(*args: str, expect: int = 0, show_stdout: bool = False, env: dict[str, str] | None = None) -> str:
    """Run `suit ARGS` (shown as typed), check its exit code, return its stdout."""
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    console.print(f"[bold cyan]$ suit {shown}[/]")
    proc = subprocess.run([sys.executable, "-m", "suitlib", *args], cwd=OUT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)
    for line in proc.stderr.strip().splitlines():
        style = "red" if line.startswith("error:") else "yellow" if line.startswith(("hint:", "warning")) else "dim"
        console.print(f"  [{style}]{line}[/]")
    if show_stdout and proc.stdout.strip():
        console.print(proc.stdout.rstrip(), markup=False)
    if proc.returncode != expect:
        raise DemoFailure(f"`suit {shown}` exited {proc.returncode}, expected {expect}")
    verdict = "ok" if expect == 0 else f"rejected as expected (exit {expect})"
    console.print(f"  [green]✓ {verdict}[/]")
    return proc.stdout


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def same_bytes(ours: Path, reference: Path, what: str) -> None:
    a, b = ours.read_bytes(), reference.read_bytes()
    if a != b:
        raise DemoFailure(f"{ours.name} differs from {what} {reference.name}")
    console.print(f"  [green]✓ {ours.name} is byte-identical to {what} {reference.name} ({len(a)} bytes)[/]")


def main() -> int:
    if not VECTORS.is_dir() or not CORPUS.is_dir():
        console.print(f"[red]error:[/] shared vectors/corpus not found under {SHARED} (set SUITLIB_SHARED)")
        return 2
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "keys").mkdir(parents=True)
    console.print(Panel.fit(
        "The manufacturer's side of a SUIT update (draft-ietf-suit-manifest-34):\n"
        "make a signing key, describe the update in a spec, build the envelope, sign it,\n"
        "verify it as a device would, and look inside.",
        title="suitlib demo", border_style="cyan"))

    secret = {PASSWORD_VAR: "demo password (read from the environment, never from argv)"}
    step("1. A signing key (P-256, encrypted PKCS#8; the password comes from an environment variable)")
    suit("keygen", "--type", "p256", "-o", "keys/manufacturer.pem", "--password-env", PASSWORD_VAR, env=secret)
    suit("pubkey", "keys/manufacturer.pub.pem", "--format", "c-array", "--name", "manufacturer_key",
         "-o", "keys/manufacturer_key.h")
    console.print(Syntax((OUT / "keys/manufacturer_key.h").read_text(), "c", theme="ansi_dark"))
    suit("keygen", "--type", "ed25519", "-o", "keys/other.pem")

    step("2. The spec's examples 0 and 1, built from YAML specs")
    for name, text in (("example0", EXAMPLE0), ("example1", EXAMPLE1)):
        (OUT / f"{name}.yaml").write_text(text)
        suit("create", f"{name}.yaml", "-o", f"{name}.suit")
        same_bytes(OUT / f"{name}.suit", VECTORS / f"{name}-unsigned.cbor", "the official")

    step("3. Sign them (deterministic ES256, RFC 6979) and verify as a device would")
    for name in ("example0", "example1"):
        suit("sign", f"{name}.suit", "--key", "keys/manufacturer.pem", "--password-env", PASSWORD_VAR,
             "--kid", "manufacturer-2026", "-o", f"{name}-signed.suit", env=secret)
        suit("verify", f"{name}-signed.suit", "--key", "keys/manufacturer.pub.pem", show_stdout=True)
    suit("verify", VECTORS.joinpath("example0-signed.cbor").as_posix(), "--key",
         VECTORS.joinpath("public_key.pem").as_posix(), show_stdout=True)

    step("4. A real firmware image from the corpus")
    pair = "mbed-blinky-k64f"
    image = CORPUS / pair / "new.bin"
    shutil.copy(image, OUT / "firmware.bin")
    (OUT / "firmware.yaml").write_text(FIRMWARE.format(name=pair, mcu="NXP K64F (FRDM-K64F)"))
    suit("create", "firmware.yaml", "-o", "firmware.suit")
    suit("sign", "firmware.suit", "--key", "keys/manufacturer.pem", "--password-env", PASSWORD_VAR,
         "-o", "firmware-signed.suit", env=secret)
    suit("sign", "firmware-signed.suit", "--key", "keys/other.pem", "--kid", "release-bot", "--append",
         "-o", "firmware-2sig.suit")
    suit("verify", "firmware-2sig.suit", "--key", "keys/manufacturer.pub.pem", "--key", "keys/other.pub.pem",
         "--threshold", "2", show_stdout=True)
    suit("inspect", "firmware-2sig.suit", show_stdout=True)

    step("5. What a device refuses")
    suit("verify", "firmware-signed.suit", "--key", "keys/other.pub.pem", expect=1)
    suit("verify", "firmware.suit", "--key", "keys/manufacturer.pub.pem", expect=1)
    tampered = bytearray((OUT / "firmware-signed.suit").read_bytes())
    tampered[-3] ^= 0x01  # inside the manifest
    (OUT / "firmware-tampered.suit").write_bytes(bytes(tampered))
    suit("verify", "firmware-tampered.suit", "--key", "keys/manufacturer.pub.pem", expect=1)
    suit("verify", "firmware.yaml", "--key", "keys/manufacturer.pub.pem", expect=2)

    step("6. Inspect as JSON and rebuild: the JSON is a spec")
    suit("inspect", "firmware-signed.suit", "--format", "json", "-o", "firmware-inspected.json")
    suit("create", "firmware-inspected.json", "-o", "firmware-rebuilt.suit")
    same_bytes(OUT / "firmware-rebuilt.suit", OUT / "firmware-signed.suit", "the inspected")
    console.print(Syntax(suit("inspect", "example0-signed.suit", "--format", "diag"), "text", theme="ansi_dark"))

    table = Table(title="demo-out/")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            table.add_row(str(path.relative_to(OUT)), str(path.stat().st_size))
    console.print(table)
    console.print("[bold green]demo complete: every step gave the expected result[/]")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DemoFailure as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        sys.exit(1)
