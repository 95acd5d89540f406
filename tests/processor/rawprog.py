"""Test helper: turn a SUIT envelope's CBOR into a processor Program without the codec.

Used only to exercise the interpreter on the official vectors independently of
``suitlib.manifest``; it performs no authentication (``authenticated=False``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import cbor2

from suitlib.processor.program import Cmd, Command, CommandSequence, Digest, Param, Program


def _unwrap(value: Any) -> Any:
    return cbor2.loads(value) if isinstance(value, bytes) else value


def params_from(raw: Mapping[int, Any]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for key, value in raw.items():
        if key == Param.IMAGE_DIGEST:
            alg, digest = cbor2.loads(value)[:2]
            out[key] = Digest(alg, digest)
        else:
            out[key] = value
    return out


def sequence_from(raw: Any) -> CommandSequence:
    items = _unwrap(raw)
    commands = []
    for i in range(0, len(items), 2):
        code, arg = items[i], items[i + 1]
        if code in (Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Cmd.DIRECTIVE_SET_PARAMETERS):
            arg = params_from(arg)
        elif code == Cmd.DIRECTIVE_TRY_EACH:
            arg = tuple(None if a is None else sequence_from(a) for a in arg)
        elif code == Cmd.DIRECTIVE_RUN_SEQUENCE:
            arg = sequence_from(arg)
        elif code == Cmd.DIRECTIVE_SET_COMPONENT_INDEX and isinstance(arg, Sequence):
            arg = tuple(arg)
        commands.append(Command(code, arg))
    return CommandSequence(tuple(commands))


def program_from_envelope(data: bytes) -> Program:
    env = cbor2.loads(data)
    if hasattr(env, "tag"):
        env = env.value
    manifest_bstr = env[3]
    manifest = cbor2.loads(manifest_bstr)
    common = cbor2.loads(manifest[3])
    sections = {}
    severed = set()
    for key in (7, 8, 9, 15, 16, 18, 20):
        if key in manifest:
            value = manifest[key]
            if isinstance(value, bytes):
                sections[key] = sequence_from(value)
            elif key in env:  # severed: the envelope carries it
                sections[key] = sequence_from(env[key])
            else:
                severed.add(key)
    payloads = {k: v for k, v in env.items() if isinstance(k, str)}
    return Program(
        sequence_number=manifest[2],
        components=tuple(tuple(c) for c in common[2]),
        shared=sequence_from(common[4]) if 4 in common else None,
        sections=sections,
        integrated_payloads=payloads,
        manifest_digest=Digest(-16, hashlib.sha256(cbor2.dumps(manifest_bstr)).digest()),
        reference_uri=manifest.get(4),
        authenticated=False,
        severed=frozenset(severed),
    )
