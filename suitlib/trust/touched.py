"""Which components a manifest actually acts on, found before anything runs.

Claims are not enough (a manifest may list a component only to check its vendor): what counts
is every component index a fetch, write, copy, swap, invoke (or any other directive with a side
effect, or a custom command) may address. The walk follows the interpreter's index rules
(draft-ietf-suit-manifest-34 §6.5, §8.4.10.1): each sequence starts at index 0,
set-component-index replaces the selection, try-each and run-sequence run their argument per
selected component and restore the selection afterwards. Branches are united, so the result is
an over-approximation: a component the interpreter could touch is always included.

Copy and swap also touch their source: every ``source-component`` value found anywhere in the
manifest counts when a copy or swap is present.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from suitlib.errors import ValidationError
from suitlib.manifest.model import CommandSequence, TryEach
from suitlib.manifest.numbers import Command as Cmd
from suitlib.manifest.numbers import Parameter as Param
from suitlib.processor.program import Program

EFFECTS = frozenset({
    Cmd.DIRECTIVE_FETCH, Cmd.DIRECTIVE_WRITE, Cmd.DIRECTIVE_COPY, Cmd.DIRECTIVE_SWAP, Cmd.DIRECTIVE_INVOKE,
    Cmd.DIRECTIVE_PROCESS_DEPENDENCY, Cmd.DIRECTIVE_UNLINK,
})
"""Directives that change (or run) the component they address."""

WITH_SOURCE = frozenset({Cmd.DIRECTIVE_COPY, Cmd.DIRECTIVE_SWAP})


@dataclass(frozen=True)
class Touch:
    """What a manifest may act on: component ids, and the class identifiers it names."""

    components: frozenset[tuple[bytes, ...]]
    classes: frozenset[Hashable]


class _Walk:
    def __init__(self, count: int) -> None:
        self.count = count
        self.touched: set[int] = set()
        self.sources: set[int] = set()
        self.classes: set[Hashable] = set()
        self.uses_source = False

    def params(self, params: Any) -> None:
        if not isinstance(params, Mapping):
            return
        if Param.CLASS_IDENTIFIER in params:
            value = params[Param.CLASS_IDENTIFIER]
            self.classes.add(value if isinstance(value, Hashable) else repr(value))
        if Param.SOURCE_COMPONENT in params:
            self.sources.add(self.index(params[Param.SOURCE_COMPONENT], "source-component"))

    def index(self, value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < self.count:
            raise ValidationError(f"{what} {value!r} is not a component index (0..{self.count - 1})", reason=6)
        return value

    def selection(self, argument: Any) -> frozenset[int]:
        if argument is True:
            return frozenset(range(self.count))
        if isinstance(argument, int) and not isinstance(argument, bool):
            return frozenset({self.index(argument, "component index")})
        if isinstance(argument, Sequence) and not isinstance(argument, (bytes, str)) and argument:
            return frozenset(self.index(i, "component index") for i in argument)
        raise ValidationError("set-component-index argument must be an index, true or a list", reason=6)

    def sequence(self, sequence: Any, selected: frozenset[int]) -> None:
        if not isinstance(sequence, CommandSequence):
            raise ValidationError("a nested command sequence is malformed", reason=6)
        for command in sequence:
            code, argument = command.code, command.argument
            if code == Cmd.DIRECTIVE_SET_COMPONENT_INDEX:
                selected = self.selection(argument)
            elif code in (Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Cmd.DIRECTIVE_SET_PARAMETERS):
                self.params(argument)
            elif code == Cmd.DIRECTIVE_OVERRIDE_MULTIPLE:
                if isinstance(argument, Mapping):
                    for index, params in argument.items():
                        self.index(index, "override-multiple index")
                        self.params(params)
            elif code == Cmd.DIRECTIVE_TRY_EACH:
                alternatives = argument.sequences if isinstance(argument, TryEach) else argument
                if not isinstance(alternatives, Sequence):
                    raise ValidationError("try-each argument is malformed", reason=6)
                for alternative in alternatives:
                    if alternative is not None:
                        self.sequence(alternative, selected)
            elif code == Cmd.DIRECTIVE_RUN_SEQUENCE:
                self.sequence(argument, selected)
            elif code in EFFECTS or code < 0:
                self.touched |= selected
                if code in WITH_SOURCE:
                    self.uses_source = True


def touched_components(program: Program) -> Touch:
    """The components ``program`` may act on, and the class identifiers it names (see module doc)."""
    walk = _Walk(len(program.components))
    if program.shared is not None:
        walk.sequence(program.shared, frozenset({0}))
    for key in sorted(program.sections):
        walk.sequence(program.sections[key], frozenset({0}))
    indices = set(walk.touched)
    if walk.uses_source:
        indices |= walk.sources
    return Touch(
        frozenset(tuple(program.components[i]) for i in indices),
        frozenset(walk.classes),
    )


__all__ = ["EFFECTS", "Touch", "touched_components"]
