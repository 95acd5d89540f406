"""A picture of a mote's flash slots over time (SVG).

Each frame classifies every sector of the primary slot, the secondary slot and the scratch area
by comparing its bytes with the slot containers (header + image + envelope,
specs/FLASH-LAYOUT.md) of the releases the caller names: a sector that holds exactly the bytes
a release's container has at that place gets the release's colour; an erased sector is white;
anything else (half-written, half-swapped, stale) is grey.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from suitlib.bootloader import image as container

ERASED, OTHER = "erased", "other"
PALETTE = ("#4e79a7", "#59a14f", "#e15759", "#f28e2b", "#b07aa1", "#76b7b2")
FIXED = {ERASED: "#ffffff", OTHER: "#bab0ac"}
LABEL_MAX = 48
"""Longest step label drawn beside a row (the label column widens to fit)."""


@dataclass(frozen=True)
class Frame:
    """The slots at one moment: a label (the event) and one class name per sector."""

    t: float
    label: str
    primary: tuple[str, ...]
    secondary: tuple[str, ...]
    scratch: tuple[str, ...]


class SlotPainter:
    """Classifies a mote's sectors against known releases: ``{name: (image, envelope)}``."""

    def __init__(self, mote, releases: dict[str, tuple[bytes, bytes]]) -> None:  # type: ignore[no-untyped-def]
        flash = mote.flash
        self.mote = mote
        self.containers = {}
        for name, (img, env) in releases.items():
            header, body = container.build(img, env, flash.write_unit, flash.erase_value)
            self.containers[name] = header + body
        longest = max(len(c) for c in self.containers.values())
        lay = mote.layout
        self.primary = lay.primary.image_sectors[: lay.primary.sectors_for(longest) + 1]
        self.secondary = lay.secondary.image_sectors[: lay.secondary.sectors_for(longest) + 1]
        self.scratch = lay.scratch.sectors if lay.scratch is not None else ()
        self.frames: list[Frame] = []

    def _classify(self, base: int, sector, scratch: bool = False) -> str:  # type: ignore[no-untyped-def]
        flash = self.mote.flash
        data = flash.read(sector.offset, sector.size)
        if data.count(flash.erase_value) == len(data):
            return ERASED
        for name, c in self.containers.items():
            starts = range(0, len(c), sector.size) if scratch else (sector.offset - base,)
            for rel in starts:
                part = c[rel : rel + sector.size]
                if part and data[: len(part)] == part:
                    return name
        return OTHER

    def capture(self, t: float, label: str) -> Frame:
        lay = self.mote.layout
        frame = Frame(
            t, label,
            tuple(self._classify(lay.primary.offset, s) for s in self.primary),
            tuple(self._classify(lay.secondary.offset, s) for s in self.secondary),
            tuple(self._classify(0, s, scratch=True) for s in self.scratch),
        )
        self.frames.append(frame)
        return frame

    def svg(self, title: str = "") -> str:
        names = list(self.containers)
        colours = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)} | FIXED
        cell, row = 9, 18
        longest = max((len(f.label[:LABEL_MAX]) for f in self.frames), default=0)
        left = max(250, int(10 + 6.7 * (9 + longest)) + 10)  # monospace 11 px: ~6.6 px a character
        n1, n2, n3 = len(self.primary), len(self.secondary), len(self.scratch)
        x2 = left + n1 * cell + 24
        x3 = x2 + n2 * cell + 24
        width = max(x3 + max(n3, 1) * cell + 20, 20 + 9 * len(title))
        height = 70 + row * len(self.frames) + 40
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
               f'font-family="monospace" font-size="11">',
               f'<text x="10" y="18" font-size="14">{escape(title)}</text>',
               f'<text x="{left}" y="50">primary ({n1} sectors)</text>',
               f'<text x="{x2}" y="50">secondary</text>', f'<text x="{x3}" y="50">scratch</text>']
        for i, f in enumerate(self.frames):
            y = 60 + i * row
            out.append(f'<text x="10" y="{y + 11}">{f.t:6.2f}s {escape(f.label[:LABEL_MAX])}</text>')
            for x0, cells in ((left, f.primary), (x2, f.secondary), (x3, f.scratch)):
                for j, c in enumerate(cells):
                    out.append(f'<rect x="{x0 + j * cell}" y="{y}" width="{cell - 1}" height="{row - 3}" '
                               f'fill="{colours[c]}" stroke="#888" stroke-width="0.3"/>')
        y = 60 + len(self.frames) * row + 20
        x = 10
        for name in names + [ERASED, OTHER]:
            out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colours[name]}" stroke="#888"/>'
                       f'<text x="{x + 16}" y="{y}">{escape(name)}</text>')
            x += 20 + 8 * len(name)
        out.append("</svg>")
        return "\n".join(out)
