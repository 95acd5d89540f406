"""The minimal bootloader printed in specs/BOOTLOADER-PROTOCOL.md §8 runs and passes the
overwrite scenarios it claims to."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

from suitlib.conformance.devices import all_devices
from suitlib.conformance.protocol import Bootloader
from suitlib.conformance.runner import Options, Suite
from suitlib.conformance.scenarios import BY_ID

SPEC = Path(__file__).resolve().parents[2] / "specs" / "BOOTLOADER-PROTOCOL.md"


def _example_module() -> types.ModuleType:
    code = re.search(r"```python\n(# mybl\.py.*?)```", SPEC.read_text(), re.S)
    assert code is not None, "the example block is missing from the spec"
    module = types.ModuleType("mybl_example")
    exec(compile(code.group(1), str(SPEC), "exec"), module.__dict__)
    sys.modules["mybl_example"] = module
    return module


def test_spec_example_passes_overwrite_scenarios() -> None:
    module = _example_module()
    assert isinstance(module.factory(), Bootloader)
    suite = Suite(module.factory, Options(max_points=25))
    tiny = all_devices()["tiny"]
    runs = []
    for sid in ("overwrite-cut", "perm-upgrade", "invalid-candidate", "download-cut"):
        runs += list(suite.run(BY_ID[sid], tiny, {"none", "cut", "torn"}))
    assert len(runs) > 40
    assert [r.id for r in runs if not r.passed] == []
