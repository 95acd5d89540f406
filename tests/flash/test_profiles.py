"""Device profiles: every shipped profile loads, covers its flash, cites its sources, and the
loader finds, overrides and rejects profiles as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.errors import InputError
from suitlib.flash import FlashEmulator, load_profile, list_profiles, parse_profile
from suitlib.flash.profiles import BUILTIN_DIR

KIB = 1024
SHIPPED = sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def test_the_required_parts_are_shipped() -> None:
    assert {"nrf52840", "stm32f4", "stm32l4", "nrf52832"} <= set(SHIPPED)
    assert set(SHIPPED) <= set(list_profiles())


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_geometry_covers_the_flash_and_the_layout_fits(name: str) -> None:
    profile = load_profile(name)
    geometry = profile.geometry()
    pos = 0
    for sector in geometry.sectors:
        assert sector.offset == pos and sector.size % geometry.write_unit == 0
        pos = sector.end
    assert pos == profile.flash_size == geometry.size
    flash = FlashEmulator.from_profile(profile)
    assert flash.size == profile.flash_size and flash.sectors == profile.sectors
    primary, secondary = profile.slot("primary"), profile.slot("secondary")
    assert primary.size == secondary.size and primary.end <= secondary.offset
    scratch = profile.slot("scratch")
    largest = max(s.size for s in geometry.sectors if primary.offset <= s.offset < secondary.end)
    assert scratch.size >= largest  # a scratch swap must hold one slot sector
    bounds = {s.offset for s in geometry.sectors} | {geometry.size}
    for hint in profile.layout:
        assert hint.offset in bounds and hint.end in bounds
    # the emulator accepts a program at the end of the primary slot and an erase of its sectors
    flash.program(primary.end - geometry.write_unit, b"\x00" * geometry.write_unit)
    last = flash.sector_at(primary.end - 1)
    flash.erase(last.offset, last.size)
    assert flash.read(primary.end - geometry.write_unit, geometry.write_unit) == b"\xff" * geometry.write_unit


def test_the_documented_figures() -> None:
    nrf = load_profile("nrf52840")
    assert (nrf.flash_size, nrf.sectors[0].size, len(nrf.sectors), nrf.write_unit) == (1024 * KIB, 4 * KIB, 256, 4)
    assert nrf.program_limit == 2 and nrf.endurance == 10000 and nrf.ram_size == 256 * KIB
    f4 = load_profile("stm32f4")
    assert [s.size // KIB for s in f4.sectors] == [16] * 4 + [64] + [128] * 7
    assert f4.geometry().uniform_sector_size is None
    l4 = load_profile("stm32l4")
    assert (l4.sectors[0].size, l4.write_unit, l4.write_once) == (2 * KIB, 8, True)
    small = load_profile("nrf52832")
    assert small.ram_size <= 64 * KIB and small.ram_budget < small.ram_size


@pytest.mark.parametrize("name", SHIPPED)
def test_every_figure_cites_a_source(name: str) -> None:
    text = (BUILTIN_DIR / f"{name}.toml").read_text()
    section = ""
    for line in text.splitlines():
        if m := re.match(r"\s*\[(\w+)\]", line):
            section = m.group(1)
        if section in ("flash", "timing", "ram") and re.match(r"\s*\w+\s*=\s*[0-9]", line):
            assert "#" in line, f"{name}: no source comment on {line.strip()!r}"
        if re.match(r"\s*\{\s*size", line):
            assert "#" in line, f"{name}: no source comment on {line.strip()!r}"
    cited = set(re.findall(r"\[([A-Z][A-Z0-9-]+)[ \]]", text))
    assert cited and all(f"[{c}]" in text for c in cited)


def test_geometry_overrides() -> None:
    nrf = load_profile("nrf52840")
    relaxed = nrf.geometry(program_limit=None, physical_erase_size=0x10000)
    assert relaxed.program_limit is None and relaxed.physical_erase_size == 0x10000
    assert nrf.geometry().program_limit == 2


def test_search_order_path_env_then_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (BUILTIN_DIR / "nrf52832.toml").read_text().replace('part = "Nordic nRF52832-QFAB"',
                                                                 'part = "custom"')
    (tmp_path / "nrf52840.toml").write_text(text.replace('name = "nrf52832"', 'name = "nrf52840"'))
    (tmp_path / "board.toml").write_text(text)
    monkeypatch.setenv("SUITLIB_PROFILES", str(tmp_path))
    assert load_profile("nrf52840").part == "custom"  # $SUITLIB_PROFILES wins over the repo
    assert "board" in list_profiles()
    assert load_profile(tmp_path / "board.toml").part == "custom"
    assert load_profile("stm32l4").write_once  # still found in the repo
    monkeypatch.delenv("SUITLIB_PROFILES")
    assert load_profile("nrf52840").part == "Nordic nRF52840-QIAA"


def test_unknown_and_unreadable_profiles(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_profile("no-such-part")
    assert "nrf52840" in info.value.hint
    with pytest.raises(InputError):
        load_profile(tmp_path / "missing.toml")


VALID = (BUILTIN_DIR / "nrf52832.toml").read_text()


@pytest.mark.parametrize("old, new", [
    ("size = 0x40000 ", "size = 0x41000 "),                          # sectors do not cover size
    ("write_unit = 4 ", "write_unit = 3 "),                          # sector not a multiple
    ("erase_value = 0xFF", "erase_value = 0x0F"),
    ("program_limit = 2 ", "program_limit = 0 "),
    ("offset = 0x24000", "offset = 0x23000"),                        # primary/secondary overlap
    ("scratch    = { offset = 0x3D000", "scratch    = { offset = 0x3D800"),  # misaligned
    ("storage    = { offset = 0x3E000, size = 0x02000", "storage    = { offset = 0x3E000, size = 0x03000"),  # past the end
    ("bootloader_budget = 0x2000", "bootloader_budget = 0x9000"),
    ('name = "nrf52832"', "name = 5"),
    ("count = 64", "count = 100000000000"),
    ("[flash]", "[flash"),
    ("endurance = 10000", "endurence = 10000"),                      # a misspelt figure
    ('name = "nrf52832"', 'name = "nrf52832"\nflash_size = 1'),
])
def test_malformed_profiles_raise_input_error(old: str, new: str) -> None:
    assert old in VALID
    with pytest.raises(InputError):
        parse_profile(VALID.replace(old, new, 1), "test.toml")


@given(st.data())
def test_mutated_profiles_parse_or_raise_input_error(data: st.DataObject) -> None:
    text = bytearray(VALID.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text) - 1))
        text[i] = data.draw(st.sampled_from(b"0123456789xX=[]{},#\"\n -_abcdef"))
    try:
        profile = parse_profile(text.decode(), "fuzz.toml")
    except InputError:
        return
    assert profile.geometry().size == profile.flash_size


def test_from_profile_by_name_with_geometry_overrides() -> None:
    flash = FlashEmulator.from_profile("stm32l4", geometry={"physical_erase_size": 0x1000},
                                       nor_rule="strict")
    assert flash.write_once and flash.nor_rule == "strict"
    flash.load(0, b"\x00" * 0x1000)
    flash.erase(0x800, 0x800)  # F9: the 4 KB block is erased, the neighbour page rewritten
    assert flash.read(0, 0x800) == b"\x00" * 0x800 and [e.kind for e in flash.trace] == ["erase", "rewrite"]


def test_busy_time_from_the_datasheet_timing() -> None:
    nrf = load_profile("nrf52840")
    # 64 page erases at 85 ms + 256 KiB in 4-byte words at 41 us
    assert nrf.busy_ms(64, 256 * KIB) == pytest.approx(64 * 85.0 + 65536 * 0.041)
    assert load_profile("nrf52832").busy_ms(1, 4) is None  # no [timing] figures shipped
