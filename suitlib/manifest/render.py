"""Human renderings of an envelope: a text summary and CBOR diagnostic notation (RFC 8949 §8)
annotated with SUIT names as comments, in the style of draft-ietf-suit-manifest-34's examples."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from suitlib.cbor import Simple, Tag, decode
from suitlib.errors import SuitError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest.codec import decode_envelope, encode_severable_content
from suitlib.manifest.model import (
    SEVERABLE_FIELDS,
    Command,
    CommandSequence,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    Text,
    TryEach,
    VersionMatch,
)
from suitlib.manifest.numbers import (
    COMMAND_NAMES,
    DIGEST_NAMES,
    ENVELOPE_NAMES,
    MANIFEST_NAMES,
    PARAMETER_NAMES,
    REP_POLICY_NAMES,
    TEXT_COMPONENT_NAMES,
    TEXT_NAMES,
    Directive,
    Parameter,
)

_PARAM_SHORT = {Parameter.VENDOR_IDENTIFIER: "vendor-id", Parameter.CLASS_IDENTIFIER: "class-id",
                Parameter.DEVICE_IDENTIFIER: "device-id", Parameter.COMPONENT_SLOT: "slot"}
_COSE_ALGS = {-7: "ES256", -9: "ESP256", -35: "ES384", -36: "ES512", -8: "EdDSA", -19: "Ed25519",
              5: "HMAC 256/256", -46: "HSS-LMS"}
_COSE_HEADERS = {1: "alg", 2: "crit", 3: "content type", 4: "kid", 5: "IV", 6: "Partial IV"}
_COSE_SHAPES = {18: ("protected", "unprotected", "payload", "signature"),
                17: ("protected", "unprotected", "payload", "tag"),
                98: ("protected", "unprotected", "payload", "signatures"),
                97: ("protected", "unprotected", "payload", "tag", "recipients")}


# --------------------------------------------------------------------------------------------
# diagnostic notation


@dataclass
class _Node:
    """One item to print: ``kind`` is scalar/array/map/wrap/tag/pair/entry."""

    kind: str
    text: str = ""
    items: list[_Node] = field(default_factory=list)
    pre: str | None = None
    post: str | None = None
    child: _Node | None = None


def _c(text: str | None) -> str:
    return f"/ {text} /" if text else ""


def _scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (bytes, bytearray)):
        return f"h'{bytes(value).hex()}'"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Simple):
        return "undefined" if value.value == 23 else f"simple({value.value})"
    return str(value)


def _generic(value: Any, pre: str | None = None, post: str | None = None) -> _Node:
    if isinstance(value, (tuple, list)):
        return _Node("array", items=[_generic(v) for v in value], pre=pre, post=post)
    if isinstance(value, Mapping):
        return _Node("map", items=[_Node("entry", text=_scalar_text(k) if not isinstance(k, tuple) else
                                         _inline(_generic(k)), child=_generic(v)) for k, v in value.items()],
                     pre=pre, post=post)
    if isinstance(value, Tag):
        return _Node("tag", text=str(value.number), child=_generic(value.value), pre=pre, post=post)
    return _Node("scalar", text=_scalar_text(value), pre=pre, post=post)


def _inline(node: _Node) -> str:
    if node.kind == "array":
        return "[" + ", ".join(_inline(i) for i in node.items) + "]"
    return node.text


def _wrap(node: _Node, pre: str | None = None) -> _Node:
    return _Node("wrap", child=node, pre=pre)


def _digest(d: Digest, pre: str | None = None) -> _Node:
    items = [_Node("scalar", text=str(d.algorithm), pre="algorithm-id",
                   post=f'"{DIGEST_NAMES[d.algorithm]}"' if d.algorithm in DIGEST_NAMES else None),
             _Node("scalar", text=_scalar_text(d.value), pre="digest-bytes")]
    items += [_generic(x) for x in d.extra]
    return _Node("array", items=items, pre=pre)


def _parameter(code: int, value: Any, components: tuple[ComponentId, ...]) -> _Node:
    name = _PARAM_SHORT.get(code) or (PARAMETER_NAMES[code][15:] if code in PARAMETER_NAMES else
                                       ("custom" if code < 0 else None))
    if isinstance(value, Digest):
        child = _wrap(_digest(value))
    elif isinstance(value, VersionMatch):
        child = _wrap(_generic(value.to_cbor()))
    else:
        post = None
        if isinstance(value, bytes) and len(value) == 16 and code in _PARAM_SHORT:
            post = str(uuid.UUID(bytes=value))
        elif code == Parameter.SOURCE_COMPONENT and isinstance(value, int) and value < len(components):
            post = str(components[value])
        child = _generic(value, post=post)
    return _Node("entry", text=str(code), child=child, pre=name)


def _params(params: Mapping[int, Any], components: tuple[ComponentId, ...]) -> _Node:
    return _Node("map", items=[_parameter(k, v, components) for k, v in params.items()])


def _sequence(seq: CommandSequence, components: tuple[ComponentId, ...]) -> _Node:
    return _Node("array", items=[_command(c, components) for c in seq.commands])


def _command(command: Command, components: tuple[ComponentId, ...]) -> _Node:
    code, arg = command.code, command.argument
    name = COMMAND_NAMES[code][5:] if code in COMMAND_NAMES else ("command-custom" if code < 0 else None)
    if isinstance(arg, Parameters):
        child = _params(arg, components)
    elif isinstance(arg, TryEach):
        items = [_wrap(_sequence(s, components)) for s in arg.sequences]
        if arg.empty_allowed:
            items.append(_Node("scalar", text="null"))
        child = _Node("array", items=items)
    elif isinstance(arg, CommandSequence):
        child = _wrap(_sequence(arg, components))
    elif code == Directive.OVERRIDE_MULTIPLE and isinstance(arg, Mapping):
        child = _Node("map", items=[_Node("entry", text=str(k), child=_params(v, components),
                                          pre=str(components[k]) if k < len(components) else None)
                                    for k, v in arg.items()])
    else:
        child = _generic(arg)
    return _Node("pair", text=str(code), child=child, pre=name)


def _text(text: Text) -> _Node:
    langs = []
    for lang, entry in text.languages.items():
        items = [_Node("entry", text=str(k), child=_generic(v), pre=TEXT_NAMES.get(k, "")[10:] or None)
                 for k, v in entry.fields.items()]
        for cid, fields in entry.components.items():
            items.append(_Node("entry", text=_inline(_generic(cid.parts)), child=_Node("map", items=[
                _Node("entry", text=str(k), child=_generic(v), pre=TEXT_COMPONENT_NAMES.get(k, "")[10:] or None)
                for k, v in fields.items()])))
        langs.append(_Node("entry", text=_scalar_text(lang), child=_Node("map", items=items)))
    return _Node("map", items=langs)


def _severable(key: int, content: Any, components: tuple[ComponentId, ...]) -> _Node:
    if isinstance(content, Digest):
        return _digest(content)
    if isinstance(content, Text):
        return _wrap(_text(content))
    if isinstance(content, bytes):
        return _Node("scalar", text=_scalar_text(content))
    return _wrap(_sequence(content, components))


def _manifest(m: Manifest) -> _Node:
    comps = m.common.components
    common_items = [_Node("entry", text="2", pre="components",
                          child=_Node("array", items=[_generic(c.parts) for c in comps]))]
    if m.common.shared_sequence is not None:
        common_items.append(_Node("entry", text="4", pre="shared-sequence",
                                  child=_wrap(_sequence(m.common.shared_sequence, comps))))
    if m.common.dependencies is not None:
        common_items.insert(0, _Node("entry", text="1", pre="dependencies", child=_generic(dict(m.common.dependencies))))
    common_items += [_Node("entry", text=_scalar_text(k), child=_generic(v)) for k, v in m.common.extensions.items()]
    entries: dict[Any, _Node] = {
        1: _Node("entry", text="1", pre="manifest-version", child=_generic(m.version)),
        2: _Node("entry", text="2", pre="manifest-sequence-number", child=_generic(m.sequence_number)),
        3: _Node("entry", text="3", pre="common", child=_wrap(_Node("map", items=common_items))),
    }
    if m.reference_uri is not None:
        entries[4] = _Node("entry", text="4", pre="reference-uri", child=_generic(m.reference_uri))
    if m.manifest_component_id is not None:
        entries[5] = _Node("entry", text="5", pre="manifest-component-id", child=_generic(m.manifest_component_id.parts))
    if m.set_version is not None:
        entries[6] = _Node("entry", text="6", pre="set-version", child=_generic(m.set_version))
    for key, attr in ((7, "validate"), (8, "load"), (9, "invoke"), (24, "uninstall")):
        seq = getattr(m, attr)
        if seq is not None:
            entries[key] = _Node("entry", text=str(key), pre=MANIFEST_NAMES[key][5:],
                                 child=_wrap(_sequence(seq, comps)))
    for key, attr in SEVERABLE_FIELDS.items():
        value = getattr(m, attr)
        if value is not None:
            entries[int(key)] = _Node("entry", text=str(int(key)), pre=MANIFEST_NAMES[key][5:],
                                      child=_severable(key, value, comps))
    for key, value in m.extensions.items():
        entries[key] = _Node("entry", text=_scalar_text(key), child=_generic(value))
    return _Node("map", items=[entries[k] for k in _sorted_keys(entries)])


def _sorted_keys(entries: Mapping[Any, Any]) -> list[Any]:
    from suitlib.cbor import encode

    return sorted(entries, key=encode)


def _cose(block: bytes) -> _Node:
    try:
        value = decode(block)
    except SuitError:
        return _Node("scalar", text=_scalar_text(block))
    if not (isinstance(value, Tag) and value.number in _COSE_SHAPES and isinstance(value.value, tuple)):
        return _generic(value)
    names = _COSE_SHAPES[value.number]
    items = []
    for i, item in enumerate(value.value):
        pre = names[i] if i < len(names) else None
        if i == 0 and isinstance(item, bytes):
            items.append(_wrap(_headers(item), pre=pre))
        elif i == 1 and isinstance(item, Mapping):
            items.append(_header_map(item, pre))
        elif item is None:
            items.append(_Node("scalar", text="null", pre=pre, post="nil"))
        else:
            items.append(_generic(item, pre=pre))
    return _Node("tag", text=str(value.number), child=_Node("array", items=items))


def _headers(raw: bytes) -> _Node:
    if not raw:
        return _Node("scalar", text="h''")
    try:
        value = decode(raw)
    except SuitError:
        return _Node("scalar", text=_scalar_text(raw))
    return _header_map(value, None) if isinstance(value, Mapping) else _generic(value)


def _header_map(value: Mapping[Any, Any], pre: str | None) -> _Node:
    items = []
    for k, v in value.items():
        post = f'"{_COSE_ALGS[v]}"' if k == 1 and isinstance(v, int) and v in _COSE_ALGS else None
        items.append(_Node("entry", text=_scalar_text(k), child=_generic(v, post=post),
                           pre=_COSE_HEADERS.get(k) if isinstance(k, int) else None))
    return _Node("map", items=items, pre=pre)


def _envelope(env: Envelope) -> _Node:
    comps = env.manifest.common.components
    auth_items = [_wrap(_digest(env.authentication.digest), pre="digest:")]
    auth_items += [_wrap(_cose(b), pre="signature:") for b in env.authentication.blocks]
    entries: dict[Any, _Node] = {
        2: _Node("entry", text="2", pre="authentication-wrapper", child=_wrap(_Node("array", items=auth_items))),
        3: _Node("entry", text="3", pre="manifest", child=_wrap(_manifest(env.manifest))),
    }
    if env.delegation is not None:
        entries[1] = _Node("entry", text="1", pre="delegation", child=_Node("scalar", text=_scalar_text(env.delegation)))
    for key, content in env.elements.items():
        entries[int(key)] = _Node("entry", text=str(int(key)), pre=ENVELOPE_NAMES.get(key, "")[5:] or None,
                                  child=_severable(key, content, comps))
    for name, payload in env.integrated.items():
        entries[name] = _Node("entry", text=_scalar_text(name), pre="integrated-payload",
                              child=_Node("scalar", text=_scalar_text(payload)))
    for key, value in env.extensions.items():
        entries[key] = _Node("entry", text=_scalar_text(key), child=_generic(value))
    body = _Node("map", items=[entries[k] for k in _sorted_keys(entries)])
    return _Node("tag", text="107", child=body) if env.tagged else body


def _fmt(node: _Node, level: int) -> str:
    pad = "    " * (level + 1)
    pre = _c(node.pre) + " " if node.pre and node.kind not in ("entry", "pair") else ""
    post = " " + _c(node.post) if node.post else ""
    if node.kind == "scalar":
        return pre + node.text + post
    if node.kind == "wrap":
        assert node.child is not None
        return pre + "<< " + _fmt(node.child, level) + " >>"
    if node.kind == "tag":
        assert node.child is not None
        return pre + node.text + "(" + _fmt(node.child, level) + ")" + post
    if node.kind in ("entry", "pair"):
        assert node.child is not None
        sep = ":" if node.kind == "entry" else ","
        return (_c(node.pre) + " " if node.pre else "") + node.text + sep + _fmt(node.child, level)
    opening, closing = ("[", "]") if node.kind == "array" else ("{", "}")
    if node.kind == "array" and all(i.kind == "scalar" and not i.pre and not i.post for i in node.items):
        return pre + opening + ", ".join(i.text for i in node.items) + closing + post
    body = ",\n".join(pad + _fmt(i, level + 1) for i in node.items)
    return pre + opening + "\n" + body + ("\n" if body else "") + "    " * level + closing + post


def render_diag(value: Envelope | bytes, *, limits: Limits = DEFAULT_LIMITS) -> str:
    """CBOR diagnostic notation of an envelope with SUIT names as ``/ comments /``."""
    env = decode_envelope(value, limits=limits) if isinstance(value, (bytes, bytearray)) else value
    return _fmt(_envelope(env), 0) + "\n"


# --------------------------------------------------------------------------------------------
# text summary


def _policy(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return repr(value)
    if value == 15:
        return "15 (all records and sysinfo)"
    names = [REP_POLICY_NAMES[b][5:] for b in (1, 2, 4, 8) if value & b]
    return f"{value}" + (f" ({', '.join(names)})" if names else "")


def _value_text(code: int, value: Any) -> str:
    if isinstance(value, Digest):
        return f"{DIGEST_NAMES.get(value.algorithm, value.algorithm)}:{value.value.hex()}"
    if isinstance(value, bytes):
        if len(value) == 16 and code in _PARAM_SHORT:
            return str(uuid.UUID(bytes=value))
        return value.hex() if len(value) <= 48 else f"{value[:24].hex()}… ({len(value)} bytes)"
    if isinstance(value, VersionMatch):
        return f"{value.comparison}:{'.'.join(map(str, value.parts))}"
    return repr(value)


def _sequence_lines(seq: CommandSequence, indent: str, out: list[str]) -> None:
    for command in seq.commands:
        name = command.name.removeprefix("suit-")
        arg = command.argument
        if isinstance(arg, Parameters):
            out.append(f"{indent}{name}:")
            for code, value in arg.items():
                pname = PARAMETER_NAMES.get(code, f"parameter {code}").removeprefix("suit-parameter-")
                out.append(f"{indent}    {pname} = {_value_text(code, value)}")
        elif isinstance(arg, TryEach):
            out.append(f"{indent}{name}:" + (" (passes if all fail)" if arg.empty_allowed else ""))
            for i, seq_i in enumerate(arg.sequences):
                out.append(f"{indent}  - option {i}:")
                _sequence_lines(seq_i, indent + "      ", out)
        elif isinstance(arg, CommandSequence):
            out.append(f"{indent}{name}:")
            _sequence_lines(arg, indent + "    ", out)
        elif command.code == Directive.SET_COMPONENT_INDEX:
            out.append(f"{indent}{name} {'all' if arg is True else arg}")
        elif command.code in COMMAND_NAMES and isinstance(arg, int) and not isinstance(arg, bool):
            out.append(f"{indent}{name} [policy {_policy(arg)}]")
        else:
            out.append(f"{indent}{name} {arg!r}")


def render_text(env: Envelope) -> str:
    """A short human summary of an envelope."""
    m = env.manifest
    auth = env.authentication
    lines = [
        f"SUIT envelope ({'tagged 107' if env.tagged else 'untagged'}), manifest version {m.version}, "
        f"sequence number {m.sequence_number}",
        f"manifest digest: {DIGEST_NAMES.get(auth.digest.algorithm, auth.digest.algorithm)}:{auth.digest.value.hex()}"
        f" ({'matches' if auth.digest.matches(env.manifest_bstr) else 'DOES NOT MATCH'})",
        f"authentication blocks: {len(auth.blocks)}" + ("" if auth.blocks else " (unsigned)"),
    ]
    if m.reference_uri:
        lines.append(f"reference uri: {m.reference_uri}")
    lines.append(f"components ({len(m.common.components)}):")
    lines += [f"  [{i}] {c}" for i, c in enumerate(m.common.components)]
    sections: list[tuple[str, Any]] = [("shared-sequence", m.common.shared_sequence)]
    sections += [(MANIFEST_NAMES[k][5:], getattr(m, a)) for k, a in
                 ((7, "validate"), (8, "load"), (9, "invoke"), (24, "uninstall"))]
    sections += [(MANIFEST_NAMES[k][5:], env.member(k) if getattr(m, a) is not None else None)
                 for k, a in SEVERABLE_FIELDS.items()]
    for name, content in sections:
        if content is None:
            key = next((k for k, a in SEVERABLE_FIELDS.items() if MANIFEST_NAMES[k][5:] == name), None)
            if key is not None and isinstance(m.severable(key), Digest):
                lines.append(f"{name}: severed (digest {m.severable(key).value.hex()[:16]}…)")
            continue
        suffix = " (in envelope)" if any(MANIFEST_NAMES[k][5:] == name for k in env.elements) else ""
        if isinstance(content, CommandSequence):
            lines.append(f"{name}{suffix}:")
            _sequence_lines(content, "    ", lines)
        elif isinstance(content, Text):
            lines.append(f"{name}{suffix}:")
            for lang, entry in content.languages.items():
                for k, v in entry.fields.items():
                    first = str(v).splitlines()[0] if str(v) else ""
                    lines.append(f"    [{lang}] {TEXT_NAMES.get(k, str(k)).removeprefix('suit-text-')}: {first}")
                for cid, fields in entry.components.items():
                    for k, v in fields.items():
                        lines.append(f"    [{lang}] {cid} "
                                     f"{TEXT_COMPONENT_NAMES.get(k, str(k)).removeprefix('suit-text-')}: {v}")
        else:
            lines.append(f"{name}{suffix}: {len(encode_severable_content(0, content))} bytes")
    for name, payload in env.integrated.items():
        lines.append(f"integrated payload {name!r}: {len(payload)} bytes")
    if m.extensions or env.extensions:
        lines.append(f"unknown keys preserved: manifest {sorted(map(str, m.extensions))}, "
                     f"envelope {sorted(map(str, env.extensions))}")
    return "\n".join(lines) + "\n"
