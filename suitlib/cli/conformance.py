"""``suit conformance``: run the power-loss conformance suite against a bootloader
(specs/BOOTLOADER-PROTOCOL.md, specs/CONFORMANCE.md)."""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import click

from suitlib.cli.files import write_atomic
from suitlib.conformance.devices import all_devices
from suitlib.conformance.report import format_text, html_report, summarize
from suitlib.conformance.runner import SCHEDULES, Options, RunResult, Suite, plan_pairs, select
from suitlib.errors import InputError

DEFAULT_BOOTLOADER = "suitlib.bootloader.reference:swap_scratch"
REPORT_REPLAYS = 10


def load_factory(spec: str) -> Any:
    """Import ``module:factory`` with the current directory on the path (like ``python -m``)."""
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"--bootloader {spec!r} is not module:factory")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import {module_name}: {exc}") from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise InputError(f"{spec} is not a callable factory")
    return factory


def _events_text(run: RunResult) -> str:
    lines = [f"replay {run.id}: {'PASS' if run.passed else 'FAIL'}"]
    for e in run.events:
        booted = f" booted={e.booted}" if e.booted else ""
        lines.append(f"  [{e.role:8}] {e.label:18} {e.outcome:28}{booted} erases={e.erases} "
                     f"programs={e.programs} counter={e.counter_after}")
        if e.picture:
            for name, cells in e.picture.items():
                lines.append(f"      {name:18} {' '.join(c[:6] for c in cells[:16])}"
                             + (" ..." if len(cells) > 16 else ""))
    lines.extend(f"  violation: {v}" for v in run.violations)
    return "\n".join(lines)


@click.command("conformance")
@click.option("--bootloader", default=DEFAULT_BOOTLOADER, show_default=True,
              help="module:factory returning an object of the Bootloader protocol.")
@click.option("--profile", "profiles", multiple=True, help="Device profile (repeatable; default all).")
@click.option("--schedule", "schedules", multiple=True, type=click.Choice(SCHEDULES),
              help="Fault schedule (repeatable; default all).")
@click.option("--scenario", "scenarios", multiple=True, help="Scenario id (repeatable; default all).")
@click.option("--max-points", type=click.IntRange(min=0), default=40, show_default=True,
              help="Sample at most N fault points per scenario, profile and schedule "
                   "(0: every point; the small geometry 'tiny' is swept exhaustively either way).")
@click.option("--image-size", type=int, default=10 * 1024, show_default=True,
              help="Bytes of the larger test image.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="Write an HTML report (with slot pictures of failing runs).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--replay", "replay_id", help="Re-run one failure id verbosely.")
@click.pass_context
def conformance(ctx: click.Context, bootloader: str, profiles: tuple[str, ...],
                schedules: tuple[str, ...], scenarios: tuple[str, ...], max_points: int | None,
                image_size: int, report_path: str | None, fmt: str, replay_id: str | None) -> None:
    """Run the power-loss conformance suite; exit 1 if any run fails."""
    quiet = bool(ctx.obj and ctx.obj.get("quiet"))
    factory = load_factory(bootloader)
    suite = Suite(factory, Options(max_points=max_points or None, image_size=image_size,
                                   exhaustive_small=True))
    devices = all_devices()
    if replay_id:
        run = suite.replay(replay_id, devices)
        if fmt == "json":
            click.echo(json.dumps({"id": run.id, "passed": run.passed,
                                   "violations": run.violations}, indent=2))
        else:
            click.echo(_events_text(run))
        if report_path:
            summary = summarize([run], suite.name, [])
            write_atomic(report_path, html_report(summary, [run]).encode())
        sys.exit(0 if run.passed else 1)
    chosen = select(devices, profiles)
    wanted = set(schedules) if schedules else set(SCHEDULES)
    pairs = plan_pairs(suite, chosen, scenarios, wanted)
    results: list[RunResult] = []
    from rich.progress import Progress  # progress bar on stderr, only in the CLI
    from rich.console import Console
    with Progress(console=Console(file=sys.stderr), disable=quiet, transient=True) as progress:
        task = progress.add_task("conformance", total=len(pairs))
        for scenario, device in pairs:
            progress.update(task, description=f"{scenario.id} on {device.name}")
            for r in suite.run(scenario, device, wanted):
                r.events = [] if r.passed else r.events
                results.append(r)
            progress.advance(task)
    summary = summarize(results, suite.name, suite.rejected)
    if fmt == "json":
        click.echo(json.dumps({k: v for k, v in summary.items()}, indent=2))
    else:
        click.echo(format_text(summary))
    if report_path:
        replays = [suite.replay(rid, devices) for rid in summary["failures"][:REPORT_REPLAYS]]
        write_atomic(report_path, html_report(summary, replays).encode())
    sys.exit(0 if summary["failed"] == 0 else 1)
