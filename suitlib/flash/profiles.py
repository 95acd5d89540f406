"""Device profiles of real parts (``firmware-sim/profiles/*.toml``) as frozen models.

A profile gives the flash geometry (sector map, write unit, erased value, program limit,
endurance, optional physical erase block), optional timing figures, the RAM size and budget, and
a slot layout hint. Every figure in the shipped files carries its datasheet or reference-manual
source in a comment.

Lookup order of :func:`load_profile`: an explicit path (anything ending in ``.toml`` or holding
a path separator), then each directory of ``$SUITLIB_PROFILES`` (``os.pathsep``-separated),
then the repository's ``firmware-sim/profiles/``. Malformed files raise :class:`InputError`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suitlib.errors import InputError
from suitlib.flash.geometry import Geometry
from suitlib.flash.interface import Sector

MAX_SECTORS = 1 << 16      # bounds on what a profile may declare (4 GiB of 64 KiB pages)
MAX_FLASH = 1 << 32
BUILTIN_DIR = Path(__file__).resolve().parents[2] / "firmware-sim" / "profiles"


@dataclass(frozen=True)
class SlotHint:
    """A named region of the suggested layout (``primary``, ``secondary``, ``scratch`` ...)."""

    name: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class DeviceProfile:
    """One part: flash geometry, timing, RAM and a slot layout hint."""

    name: str
    part: str
    description: str
    sectors: tuple[Sector, ...]
    write_unit: int
    erase_value: int
    program_limit: int | None
    endurance: int | None
    physical_erase_size: int | None
    ram_size: int
    ram_budget: int
    layout: tuple[SlotHint, ...]
    erase_ms: float | None = None
    program_us: float | None = None
    source: str = ""

    @property
    def flash_size(self) -> int:
        return self.sectors[-1].end

    @property
    def write_once(self) -> bool:
        return self.program_limit == 1

    def geometry(self, **overrides: Any) -> Geometry:
        """The flash :class:`Geometry`; keyword overrides replace fields (e.g.
        ``program_limit=None``, ``physical_erase_size=0x10000``)."""
        g = Geometry(self.sectors, write_unit=self.write_unit, erase_value=self.erase_value,
                     program_limit=self.program_limit, endurance=self.endurance,
                     physical_erase_size=self.physical_erase_size)
        return dataclasses.replace(g, **overrides) if overrides else g

    def busy_ms(self, erases: int, bytes_programmed: int) -> float | None:
        """Flash busy time the datasheet figures predict for this much work (``None`` without
        ``[timing]``); e.g. ``profile.busy_ms(flash.stats.erases, flash.stats.bytes_programmed)``."""
        if self.erase_ms is None or self.program_us is None:
            return None
        return erases * self.erase_ms + bytes_programmed / self.write_unit * self.program_us / 1000

    def slot(self, name: str) -> SlotHint:
        for hint in self.layout:
            if hint.name == name:
                return hint
        raise KeyError(f"profile {self.name!r} has no {name!r} region")


# --- parsing (pure) -----------------------------------------------------------------------


def _need(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise InputError(f"{where}: missing {key!r}")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InputError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _opt_int(table: Mapping[str, Any], key: str, where: str) -> int | None:
    return _need(table, key, int, where) if key in table else None


def _opt_float(table: Mapping[str, Any], key: str, where: str) -> float | None:
    return float(_need(table, key, (int, float), where)) if key in table else None


_KEYS = {
    "": {"name", "part", "description", "flash", "timing", "ram", "layout"},
    "flash": {"size", "sectors", "write_unit", "erase_value", "program_limit", "endurance",
              "physical_erase_size"},
    "timing": {"erase_ms", "program_us"},
    "ram": {"size", "bootloader_budget"},
}


def _no_unknown_keys(doc: Mapping[str, Any], source: str) -> None:
    """A misspelt key (``endurence``) must not silently drop a figure."""
    for table, allowed in _KEYS.items():
        section = doc if not table else doc.get(table, {})
        if isinstance(section, dict):
            unknown = sorted(set(section) - allowed)
            if unknown:
                where = f"[{table}]" if table else "top level"
                raise InputError(f"{source}: unknown key(s) {', '.join(unknown)} at {where}",
                                 hint=f"allowed: {', '.join(sorted(allowed))}")


def parse_profile(text: str, source: str = "<profile>") -> DeviceProfile:
    """Parse and check one profile document (TOML text)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    _no_unknown_keys(doc, source)
    flash = _need(doc, "flash", dict, source)
    runs = _need(flash, "sectors", list, f"{source} [flash]")
    sectors, pos = [], 0
    for i, run in enumerate(runs):
        where = f"{source} [flash] sectors[{i}]"
        if not isinstance(run, dict):
            raise InputError(f"{where}: expected {{ size = N, count = M }}")
        size = _need(run, "size", int, where)
        count = _need(run, "count", int, where) if "count" in run else 1
        if size <= 0 or count <= 0:
            raise InputError(f"{where}: size and count must be positive")
        if len(sectors) + count > MAX_SECTORS or pos + size * count > MAX_FLASH:
            raise InputError(f"{where}: more than {MAX_SECTORS} sectors or {MAX_FLASH:#x} bytes")
        for _ in range(count):
            sectors.append(Sector(pos, size))
            pos += size
    size = _need(flash, "size", int, f"{source} [flash]")
    if pos != size:
        raise InputError(f"{source}: sectors cover {pos:#x} bytes but [flash] size is {size:#x}")
    ram = _need(doc, "ram", dict, source)
    timing = doc.get("timing", {})
    layout_table = doc.get("layout", {})
    if not isinstance(timing, dict) or not isinstance(layout_table, dict):
        raise InputError(f"{source}: [timing] and [layout] must be tables")
    layout = []
    for name, region in layout_table.items():
        where = f"{source} [layout] {name}"
        if not isinstance(region, dict):
            raise InputError(f"{where}: expected {{ offset = N, size = M }}")
        layout.append(SlotHint(name, _need(region, "offset", int, where), _need(region, "size", int, where)))
    profile = DeviceProfile(
        name=_need(doc, "name", str, source),
        part=str(doc.get("part", "")),
        description=str(doc.get("description", "")),
        sectors=tuple(sectors),
        write_unit=_need(flash, "write_unit", int, f"{source} [flash]"),
        erase_value=_need(flash, "erase_value", int, f"{source} [flash]"),
        program_limit=_opt_int(flash, "program_limit", f"{source} [flash]"),
        endurance=_opt_int(flash, "endurance", f"{source} [flash]"),
        physical_erase_size=_opt_int(flash, "physical_erase_size", f"{source} [flash]"),
        ram_size=_need(ram, "size", int, f"{source} [ram]"),
        ram_budget=_need(ram, "bootloader_budget", int, f"{source} [ram]"),
        layout=tuple(sorted(layout, key=lambda h: h.offset)),
        erase_ms=_opt_float(timing, "erase_ms", f"{source} [timing]"),
        program_us=_opt_float(timing, "program_us", f"{source} [timing]"),
        source=source,
    )
    try:
        geometry = profile.geometry()
    except ValueError as exc:
        raise InputError(f"{source}: {exc}") from None
    _check_layout(profile, geometry)
    return profile


def _check_layout(profile: DeviceProfile, geometry: Geometry) -> None:
    boundaries = {s.offset for s in geometry.sectors} | {geometry.size}
    previous: SlotHint | None = None
    for hint in profile.layout:
        if hint.size <= 0 or hint.offset < 0 or hint.end > geometry.size:
            raise InputError(f"{profile.source}: region {hint.name!r} lies outside the flash")
        if hint.offset not in boundaries or hint.end not in boundaries:
            raise InputError(f"{profile.source}: region {hint.name!r} is not sector-aligned")
        if previous is not None and hint.offset < previous.end:
            raise InputError(f"{profile.source}: regions {previous.name!r} and {hint.name!r} overlap")
        previous = hint
    if not 0 < profile.ram_budget <= profile.ram_size:
        raise InputError(f"{profile.source}: [ram] bootloader_budget must be in (0, size]")


# --- lookup (reads files) -------------------------------------------------------------------


def search_path() -> list[Path]:
    """Directories searched for ``NAME.toml``, in order."""
    dirs = [Path(p) for p in os.environ.get("SUITLIB_PROFILES", "").split(os.pathsep) if p]
    return dirs + [BUILTIN_DIR]


def list_profiles() -> list[str]:
    """Names of every profile on the search path (the first of a name wins)."""
    names: set[str] = set()
    for d in search_path():
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def load_profile(name_or_path: str | os.PathLike[str]) -> DeviceProfile:
    """Load a profile by name (``nrf52840``) or by path (``./my-board.toml``)."""
    text = os.fspath(name_or_path)
    if text.endswith(".toml") or os.sep in text or (os.altsep and os.altsep in text):
        path = Path(text)
    else:
        path = next((d / f"{text}.toml" for d in search_path() if (d / f"{text}.toml").is_file()),
                    Path())
        if path == Path():
            raise InputError(f"unknown device profile {text!r}",
                             hint=f"known profiles: {', '.join(list_profiles()) or 'none'}")
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read profile {path}: {exc}") from None
    return parse_profile(content, str(path))
