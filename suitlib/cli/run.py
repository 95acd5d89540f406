"""`suit run ENVELOPE`: run an envelope against an in-memory device described on the command line.

Prints what the processor did to the device (fetches, writes, copies, swaps, invokes) and the
SUIT_Report; exit 0 when the procedure(s) succeeded, otherwise the error's exit code.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import click

from suitlib.cli.files import read_input, write_atomic
from suitlib.cli.keyfiles import load_trust_anchors
from suitlib.cose import Threshold
from suitlib.errors import InputError
from suitlib.processor import (
    INVOCATION,
    UPDATE,
    InMemoryPlatform,
    MemoryComponent,
    MemoryFetcher,
    MemoryStore,
    Processor,
    ProcessorPolicy,
    ProcessResult,
)
from suitlib.processor.interpreter import TraceEvent
from suitlib.processor.program import Cmd, Section

MAX_FILE = 64 << 20


def _uuid(text: str, *, namespace: uuid.UUID | None, what: str) -> bytes:
    """A UUID, ``dns:DOMAIN`` (UUIDv5 in the DNS namespace) or ``name:TEXT`` (UUIDv5 under ``namespace``)."""
    try:
        if text.startswith("dns:"):
            return uuid.uuid5(uuid.NAMESPACE_DNS, text[4:]).bytes
        if text.startswith("name:"):
            if namespace is None:
                raise InputError(f"{what} name:… needs a UUID vendor id to derive from")
            return uuid.uuid5(namespace, text[5:]).bytes
        return uuid.UUID(text).bytes
    except ValueError:
        raise InputError(f"{what} {text!r} is not a UUID, dns:DOMAIN or name:TEXT",
                         hint="e.g. --vendor-id dns:arm.com --class-id name:suit") from None


def _component(spec: str) -> tuple[tuple[bytes, ...], int | None, bytes | None]:
    """``HEX[/HEX…][@SLOT][=FILE]`` → (component id, slot, initial content)."""
    body, _, file = spec.partition("=")
    body, _, slot_text = body.partition("@")
    try:
        cid = tuple(bytes.fromhex(part) for part in body.split("/"))
        slot = int(slot_text) if slot_text else None
    except ValueError:
        raise InputError(f"--component {spec!r}: expected HEX[/HEX…][@SLOT][=FILE]",
                         hint="e.g. --component 00@1 or --component 00=current.bin") from None
    content = read_input(file, what="component content", max_size=MAX_FILE) if file else None
    return cid, slot, content


def _resource(spec: str) -> tuple[str, bytes]:
    uri, sep, file = spec.rpartition("=")
    if not sep or not uri:
        raise InputError(f"--resource {spec!r}: expected URI=FILE")
    return uri, read_input(file, what="resource", max_size=MAX_FILE)


def _describe(entry: tuple[Any, ...]) -> str:
    kind = entry[0]
    name = lambda cid: "[" + ",".join(part.hex() for part in cid) + "]"  # noqa: E731
    if kind == "write":
        return f"write {name(entry[1])} ({entry[2]} bytes)"
    if kind == "erase":
        return f"erase {name(entry[1])} (transfer abandoned)"
    if kind == "copy":
        return f"copy {name(entry[2])} -> {name(entry[1])}"
    if kind == "swap":
        return f"swap {name(entry[1])} <-> {name(entry[2])}"
    if kind == "invoke":
        args = f" args={entry[2].hex()}" if entry[2] else ""
        return f"invoke {name(entry[1])}{args}"
    if kind == "store-sequence-number":
        return f"store sequence number {entry[1]}"
    return " ".join(map(str, entry))


def _trace_line(event: TraceEvent) -> str:
    where = event.where
    try:
        section = Section(where.section).name.lower().replace("_", "-")
    except ValueError:
        section = str(where.section)
    try:
        command = Cmd(where.code).name.lower().replace("_", "-")
    except ValueError:
        command = f"command {where.code}"
    outcome = "ok" if event.ok else f"failed: {event.message}"
    return f"{'  ' * event.depth}{section}[{where.offset}] component {where.component_index}: {command}: {outcome}"


@click.command()
@click.argument("envelope_file", metavar="ENVELOPE")
@click.option("-k", "--key", "keys", multiple=True, metavar="PUB", help="Trusted public key (PEM or COSE_Key); repeatable.")
@click.option("--threshold", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many distinct trusted keys must have signed.")
@click.option("--allow-unsigned", is_flag=True, help="Accept an envelope without signatures.")
@click.option("--vendor-id", required=True, help="Device vendor id: UUID or dns:DOMAIN.")
@click.option("--class-id", required=True, help="Device class id: UUID or name:TEXT (UUIDv5 under the vendor id).")
@click.option("--device-id", default=None, help="Device identifier UUID (optional).")
@click.option("-c", "--component", "components", multiple=True, metavar="HEX[@SLOT][=FILE]",
              help="A device component (default: 00); repeatable.")
@click.option("-r", "--resource", "resources", multiple=True, metavar="URI=FILE",
              help="What the in-memory fetcher serves at URI; repeatable.")
@click.option("--stored-sequence", type=int, default=None, help="Sequence number the device has stored.")
@click.option("--battery", type=int, default=None, help="Battery level (minimum-battery condition).")
@click.option("--time", "now", type=int, default=None, help="Trusted POSIX time (use-before condition).")
@click.option("--procedure", type=click.Choice(["update", "invoke", "both"]), default="both", show_default=True,
              help="update = fetch/install/validate; invoke = validate/load/invoke; both = update then invoke.")
@click.option("--trace", is_flag=True, help="Print every command executed, per component, with its outcome.")
@click.option("--report", "report_file", default=None, metavar="FILE", help="Write the (last) SUIT_Report as CBOR.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def run(envelope_file: str, keys: tuple[str, ...], threshold: int, allow_unsigned: bool, vendor_id: str,
        class_id: str, device_id: str | None, components: tuple[str, ...], resources: tuple[str, ...],
        stored_sequence: int | None, battery: int | None, now: int | None, procedure: str, trace: bool,
        report_file: str | None, fmt: str) -> None:
    """Run ENVELOPE on an in-memory device and print what it did and the SUIT_Report."""
    if not keys and not allow_unsigned:
        raise InputError("no trusted key given", hint="pass --key PUB.pem (repeatable) or --allow-unsigned")
    envelope = read_input(envelope_file, what="envelope")
    vendor = _uuid(vendor_id, namespace=None, what="--vendor-id")
    klass = _uuid(class_id, namespace=uuid.UUID(bytes=vendor), what="--class-id")
    device = _uuid(device_id, namespace=None, what="--device-id") if device_id else None
    comps: dict[tuple[bytes, ...], MemoryComponent] = {}
    for spec in components or ("00",):
        cid, slot, content = _component(spec)
        comps[cid] = MemoryComponent(
            capacity=MAX_FILE, content=bytearray(content) if content is not None else None, slot=slot,
            vendor_ids=(vendor,), class_ids=(klass,), device_ids=(device,) if device else (),
        )
    platform = InMemoryPlatform(
        components_map=comps,
        fetcher_impl=MemoryFetcher(dict(_resource(r) for r in resources)),
        store=MemoryStore(stored_sequence),
        battery=battery,
        clock=now,
    )
    traced: list[str] = []
    processor = Processor(
        platform, load_trust_anchors(keys), policy=ProcessorPolicy(allow_unsigned=allow_unsigned),
        signature_policy=Threshold(threshold) if threshold > 1 else None,
        trace=(lambda event: traced.append(_trace_line(event))) if trace else None,
    )
    fetcher = platform.fetcher_impl
    assert isinstance(fetcher, MemoryFetcher)
    results: list[tuple[ProcessResult, list[str], list[str]]] = []
    for name in ([UPDATE] if procedure == "update" else [INVOCATION] if procedure == "invoke" else [UPDATE, INVOCATION]):
        start, fetched = len(platform.log), len(fetcher.requests)
        traced.clear()
        result = processor.update(envelope) if name == UPDATE else processor.invoke(envelope)
        actions = [_describe(e) for e in platform.log[start:]]
        results.append((result, list(fetcher.requests[fetched:]), traced + actions if trace else actions))
        if not result.ok:
            break
    last = results[-1][0]
    if report_file:
        write_atomic(report_file, last.report.encode())
    if fmt == "json":
        click.echo(json.dumps([
            {"procedure": r.procedure, "ok": r.ok, "fetched": fetched, "actions": actions,
             "error": r.error.to_dict() if r.error else None, "report": r.report.to_dict()}
            for r, fetched, actions in results
        ], indent=2, default=str))
    else:
        for r, fetched, actions in results:
            click.echo(f"{r.procedure}: {'ok' if r.ok else 'FAILED'}"
                       f" (sequence number {r.sequence_number}, {r.commands_executed} commands)")
            for uri in fetched:
                click.echo(f"  fetch {uri}")
            for line in actions:
                click.echo(f"  {line}")
            report = r.report.to_dict()
            click.echo(f"  report: {len(report['records'])} record(s), result "
                       + ("success" if report["result"] is True else
                          f"{report['result']['reason']} at command {report['result']['code']}"
                          f" (section {report['result']['section']}, offset {report['result']['offset']},"
                          f" component {report['result']['component_index']})"))
    if last.error is not None:
        raise last.error
