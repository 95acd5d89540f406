"""The import layering of ARCHITECTURE.md: lower layers never import higher ones, and nothing
below the edges does I/O-framework imports (asyncio, socket, aiocoap, click, rich)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "suitlib"

# Longest prefix wins. Same-layer imports are allowed.
LAYERS: dict[str, int] = {
    "suitlib": 0,
    "suitlib.errors": 0,
    "suitlib.limits": 0,
    "suitlib.cbor": 1,
    "suitlib.cose": 1,
    "suitlib.manifest": 2,
    "suitlib.delta": 2,
    "suitlib.flash": 2,
    "suitlib.transport": 2,
    "suitlib.transport.blockwise": 2,
    "suitlib.processor": 3,
    "suitlib.bootloader": 3,
    "suitlib.conformance": 3,
    "suitlib.trust": 3,
    "suitlib.transport.coap": 4,
    "suitlib.server": 5,
    "suitlib.cli": 5,
    "suitlib.sim": 5,
    "suitlib.__main__": 5,
}
EDGE_LAYER = 4
IO_MODULES = {"asyncio", "socket", "aiocoap", "click", "rich", "sqlite3", "subprocess", "selectors"}


def layer_of(module: str) -> int:
    best, best_len = 0, -1
    for prefix, layer in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
            best, best_len = layer, len(prefix)
    return best


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
            for alias in node.names:  # `from suitlib import cli` imports suitlib.cli
                found.append(f"{target}.{alias.name}")
    return found


SOURCES = sorted(p for p in ROOT.rglob("*.py"))


def test_sources_found() -> None:
    assert len(SOURCES) > 10


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_layering(path: Path) -> None:
    mod = module_name(path)
    own = layer_of(mod)
    for target in imports_of(path):
        root = target.split(".")[0]
        if root == "suitlib":
            if target in LAYERS or any(target.startswith(p + ".") for p in LAYERS):
                assert layer_of(target) <= own, f"{mod} (layer {own}) imports {target} (layer {layer_of(target)})"
        elif own < EDGE_LAYER:
            assert root not in IO_MODULES, f"{mod} is below the edges but imports {target}"


def test_layer_checker_catches_violations(tmp_path: Path) -> None:
    """The checker itself has teeth: an upward import is seen as one."""
    assert layer_of("suitlib.cbor.decode") < layer_of("suitlib.manifest.model")
    assert layer_of("suitlib.transport.blockwise") < layer_of("suitlib.transport.coap")
    assert layer_of("suitlib.cli.main") == 5
