"""Build envelopes from a YAML/JSON "spec" and turn envelopes back into one.

The format is described in ``specs/MANIFEST-SPEC-FORMAT.md``: the SUIT spec's kebab-case
names (``suit-manifest-sequence-number``, ``suit-directive-override-parameters``,
``suit-parameter-image-digest`` …), ``file:`` references that fill digests, sizes and
contents, UUIDs from strings or names (UUIDv5). :func:`envelope_to_spec` produces a JSON-able
spec that :func:`build_envelope` turns back into the same bytes (inspect → create round-trips).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from suitlib.cbor import Simple, Tag
from suitlib.errors import InputError, SuitError, ValidationError
from suitlib.manifest.digests import severable_digest, with_authentication
from suitlib.manifest.model import (
    SEVERABLE_FIELDS,
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    Severable,
    Text,
    TextEntry,
    TryEach,
    VersionMatch,
    digest_bytes,
    frozen_map,
)
from suitlib.manifest.numbers import (
    COMMAND_NAMES,
    DIGEST_NAMES,
    MANIFEST_NAMES,
    PARAMETER_NAMES,
    PEN_TAG,
    REP_POLICY_NAMES,
    SEVERABLE,
    TEXT_COMPONENT_NAMES,
    TEXT_NAMES,
    Directive,
    ManifestKey,
    Parameter,
    VersionComparison,
)


class SpecError(ValidationError):
    """A spec that cannot be turned into an envelope; ``path`` says where (exit 2)."""

    default_hint = "see specs/MANIFEST-SPEC-FORMAT.md for the spec format"

    def __init__(self, message: str, *, path: str = "", **kw: Any) -> None:
        super().__init__(f"{path}: {message}" if path else message, path=path, **kw)


UUID_NAMESPACES = {
    "dns": uuid.NAMESPACE_DNS,
    "url": uuid.NAMESPACE_URL,
    "oid": uuid.NAMESPACE_OID,
    "x500": uuid.NAMESPACE_X500,
    "cbor-pen": uuid.UUID("47fbdabb-f2e4-55f0-bb39-3620c2f6df4e"),
}
"""Namespaces usable by name in ``{uuid5: {namespace: …, name: …}}`` (suit-codes.md "UUIDs")."""

_BY_NAME = {
    "command": {v: k for k, v in COMMAND_NAMES.items()},
    "parameter": {v: k for k, v in PARAMETER_NAMES.items()},
    "text": {v: k for k, v in TEXT_NAMES.items()},
    "text-component": {v: k for k, v in TEXT_COMPONENT_NAMES.items()},
    "manifest": {v: k for k, v in MANIFEST_NAMES.items()},
    "digest": {v: k for k, v in DIGEST_NAMES.items()},
    "policy": {v: k for k, v in REP_POLICY_NAMES.items()},
}
_SEQUENCE_MEMBERS = {"suit-validate": "validate", "suit-load": "load", "suit-invoke": "invoke",
                     "suit-uninstall": "uninstall"}
_SEVERABLE_NAMES = {MANIFEST_NAMES[k]: k for k in SEVERABLE}
_SHORT_SEVERABLE = {name[5:]: key for name, key in _SEVERABLE_NAMES.items()}


def severable_key(name: str | int, path: str = "") -> int:
    """Severable member key from ``install``, ``suit-install`` or ``20``."""
    if isinstance(name, int) and name in SEVERABLE:
        return name
    text = str(name)
    key = _SEVERABLE_NAMES.get(text) or _SHORT_SEVERABLE.get(text)
    if key is None and text.lstrip("-").isdigit() and int(text) in SEVERABLE:
        key = int(text)
    if key is None:
        raise SpecError(f"{name!r} is not a severable member (one of {', '.join(sorted(_SHORT_SEVERABLE))})",
                        path=path)
    return key


# ============================================================================================
# spec -> model


def _read_file(path: Path) -> bytes:
    return path.read_bytes()


class _Builder:
    def __init__(self, base_dir: Path, read_file: Callable[[Path], bytes] | None = None) -> None:
        self.base_dir = Path(base_dir)
        self.read_file = read_file or _read_file
        self._files: dict[Path, bytes] = {}

    # --- leaves --------------------------------------------------------------------------

    def file(self, ref: Any, path: str) -> bytes:
        if not isinstance(ref, str) or not ref:
            raise SpecError("file: takes a path", path=path)
        full = (self.base_dir / ref).resolve()
        if full not in self._files:
            try:
                self._files[full] = self.read_file(full)
            except OSError as exc:
                raise InputError(f"{path}: cannot read {ref}: {exc.strerror or exc}",
                                 hint="file: paths are relative to the spec's directory", path=path) from None
        return self._files[full]

    def code(self, value: Any, table: str, path: str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            if value in _BY_NAME[table]:
                return _BY_NAME[table][value]
            if value.lstrip("-").isdigit():
                return int(value)
        raise SpecError(f"unknown {table} name {value!r}", path=path)

    def uint(self, value: Any, path: str) -> int:
        if isinstance(value, Mapping) and set(value) == {"file"}:
            return len(self.file(value["file"], path))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SpecError(f"expected a non-negative integer, got {value!r}", path=path)
        return value

    def int_(self, value: Any, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise SpecError(f"expected an integer, got {value!r}", path=path)
        return value

    def bytes_(self, value: Any, path: str) -> bytes:
        """bstr: a hex string (``h'…'`` allowed), ``{hex:}``, ``{file:}`` or ``{utf8:}``."""
        if isinstance(value, str):
            return _hex(value, path)
        if isinstance(value, Mapping) and len(value) == 1:
            (kind, arg), = value.items()
            if kind == "hex":
                return _hex(arg, path)
            if kind == "file":
                return self.file(arg, path)
            if kind == "utf8" and isinstance(arg, str):
                return arg.encode("utf-8")
        raise SpecError(f"expected a byte string (hex, {{file: …}} or {{utf8: …}}), got {value!r}", path=path)

    def identifier(self, value: Any, path: str) -> Any:
        """vendor/class/device identifier: UUID string, {uuid5: {namespace, name}}, hex, {pen: hex}."""
        if isinstance(value, str):
            try:
                return uuid.UUID(value).bytes if "-" in value else _hex(value, path)
            except ValueError:
                raise SpecError(f"not a UUID or hex string: {value!r}", path=path) from None
        if isinstance(value, Mapping) and len(value) == 1:
            (kind, arg), = value.items()
            if kind == "uuid5" and isinstance(arg, Mapping):
                ns = arg.get("namespace", "dns")
                name = arg.get("name")
                if not isinstance(name, str):
                    raise SpecError("uuid5 needs a name", path=path)
                try:
                    namespace = UUID_NAMESPACES[ns] if ns in UUID_NAMESPACES else uuid.UUID(str(ns))
                except ValueError:
                    raise SpecError(f"unknown UUID namespace {ns!r}", path=path) from None
                return uuid.uuid5(namespace, name).bytes
            if kind == "pen":
                return Tag(PEN_TAG, self.bytes_(arg, path))
        return self.bytes_(value, path)

    def digest(self, value: Any, path: str) -> Digest:
        if not isinstance(value, Mapping):
            raise SpecError("a digest is {suit-digest-algorithm-id, suit-digest-bytes} or {file: …}", path=path)
        alg = self.code(value.get("suit-digest-algorithm-id", value.get("algorithm", "sha256")), "digest", path)
        if "file" in value:
            return Digest(alg, digest_bytes(self.file(value["file"], path), alg))
        if "suit-digest-bytes" not in value:
            raise SpecError("a digest needs suit-digest-bytes or file", path=path)
        extra = tuple(from_generic(v, f"{path}/ext") for v in value.get("suit-digest-extensions", ()))
        return Digest(alg, self.bytes_(value["suit-digest-bytes"], path), extra)

    def component_id(self, value: Any, path: str) -> ComponentId:
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            raise SpecError("a component identifier is a list of byte strings", path=path)
        return ComponentId(tuple(self.bytes_(p, f"{path}[{i}]") for i, p in enumerate(value)))

    # --- parameters and commands ---------------------------------------------------------

    def parameter(self, code: int, value: Any, path: str) -> Any:
        if code in (Parameter.VENDOR_IDENTIFIER, Parameter.CLASS_IDENTIFIER, Parameter.DEVICE_IDENTIFIER):
            return self.identifier(value, path)
        if code == Parameter.IMAGE_DIGEST:
            return self.digest(value, path)
        if code in (Parameter.USE_BEFORE, Parameter.COMPONENT_SLOT, Parameter.IMAGE_SIZE,
                    Parameter.SOURCE_COMPONENT, Parameter.MINIMUM_BATTERY):
            return self.uint(value, path)
        if code == Parameter.UPDATE_PRIORITY:
            return self.int_(value, path)
        if code in (Parameter.STRICT_ORDER, Parameter.SOFT_FAILURE):
            if not isinstance(value, bool):
                raise SpecError("expected true or false", path=path)
            return value
        if code == Parameter.URI:
            if not isinstance(value, str):
                raise SpecError("expected a URI string", path=path)
            return value
        if code in (Parameter.CONTENT, Parameter.INVOKE_ARGS, Parameter.FETCH_ARGUMENTS,
                    Parameter.ENCRYPTION_INFO, Parameter.WAIT_INFO, Parameter.COMPONENT_METADATA):
            return self.bytes_(value, path)
        if code == Parameter.VERSION:
            if not isinstance(value, Mapping) or "parts" not in value:
                raise SpecError("version is {comparison: …, parts: [ints]}", path=path)
            comp = value.get("comparison", "greater-equal")
            if isinstance(comp, str):
                try:
                    comp = VersionComparison[comp.upper().replace("-", "_")].value
                except KeyError:
                    raise SpecError(f"unknown comparison {comp!r}", path=path) from None
            return VersionMatch(self.uint(comp, path), tuple(self.int_(p, path) for p in value["parts"]))
        return from_generic(value, path)

    def parameters(self, value: Any, path: str) -> Parameters:
        if not isinstance(value, Mapping) or not value:
            raise SpecError("parameters are a non-empty map of suit-parameter-… names", path=path)
        out = {}
        for name, item in value.items():
            code = self.code(name, "parameter", path)
            out[code] = self.parameter(code, item, f"{path}/{name}")
        return Parameters(out)

    def policy(self, value: Any, path: str) -> int:
        if isinstance(value, Sequence) and not isinstance(value, str):
            total = 0
            for item in value:
                total |= self.code(item, "policy", path)
            return total
        return self.uint(value, path)

    def command(self, entry: Any, path: str) -> Command:
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise SpecError("each command is a one-entry map {suit-…: argument}", path=path)
        (name, arg), = entry.items()
        if name in ("suit-command-custom", "suit-command"):
            if not isinstance(arg, Mapping) or "code" not in arg:
                raise SpecError("custom commands are {code: int, argument: value}", path=path)
            return Command(self.int_(arg["code"], path), from_generic(arg.get("argument"), path))
        code = self.code(name, "command", path)
        sub = f"{path}/{name}"
        if code == Directive.SET_COMPONENT_INDEX:
            if arg is True:
                return Command(code, True)
            if isinstance(arg, Sequence) and not isinstance(arg, str):
                return Command(code, tuple(self.uint(i, sub) for i in arg))
            return Command(code, self.uint(arg, sub))
        if code in (Directive.OVERRIDE_PARAMETERS, Directive.SET_PARAMETERS):
            return Command(code, self.parameters(arg, sub))
        if code == Directive.TRY_EACH:
            if not isinstance(arg, Sequence) or isinstance(arg, str):
                raise SpecError("try-each takes a list of sequences (optionally ending with null)", path=sub)
            empty = bool(arg) and arg[-1] is None
            seqs = arg[:-1] if empty else arg
            return Command(code, TryEach(tuple(self.sequence(s, f"{sub}[{i}]") for i, s in enumerate(seqs)),
                                         empty))
        if code == Directive.RUN_SEQUENCE:
            return Command(code, self.sequence(arg, sub))
        if code == Directive.OVERRIDE_MULTIPLE:
            if not isinstance(arg, Mapping):
                raise SpecError("override-multiple maps component indexes to parameters", path=sub)
            return Command(code, frozen_map({self.uint(_int_key(k, sub), sub): self.parameters(v, f"{sub}/{k}")
                                             for k, v in arg.items()}))
        if code == Directive.COPY_PARAMS:
            if not isinstance(arg, Mapping):
                raise SpecError("copy-params maps source component indexes to parameter names", path=sub)
            return Command(code, frozen_map({self.uint(_int_key(k, sub), sub):
                                             tuple(self.code(p, "parameter", sub) for p in v)
                                             for k, v in arg.items()}))
        return Command(code, self.policy(arg, sub))

    def sequence(self, value: Any, path: str) -> CommandSequence:
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise SpecError("a command sequence is a list of commands", path=path)
        return CommandSequence(tuple(self.command(c, f"{path}[{i}]") for i, c in enumerate(value)))

    # --- structures ------------------------------------------------------------------------

    def text(self, value: Any, path: str) -> Text:
        if not isinstance(value, Mapping):
            raise SpecError("suit-text maps language tags to text", path=path)
        langs = {}
        for lang, entry in value.items():
            sub = f"{path}/{lang}"
            if not isinstance(entry, Mapping):
                raise SpecError("expected a map of suit-text-… names", path=sub)
            fields: dict[int, Any] = {}
            components: dict[ComponentId, Any] = {}
            for name, item in entry.items():
                if name == "suit-text-components":
                    for i, comp in enumerate(item):
                        csub = f"{sub}/suit-text-components[{i}]"
                        if not isinstance(comp, Mapping) or "suit-component-identifier" not in comp:
                            raise SpecError("each entry needs suit-component-identifier", path=csub)
                        cid = self.component_id(comp["suit-component-identifier"], csub)
                        components[cid] = frozen_map({
                            self.code(k, "text-component", csub): from_generic(v, csub)
                            for k, v in comp.items() if k != "suit-component-identifier"})
                else:
                    fields[self.code(name, "text", sub)] = from_generic(item, f"{sub}/{name}")
            langs[lang] = TextEntry(frozen_map(fields), frozen_map(components))
        return Text(frozen_map(langs))

    def severable_content(self, key: int, value: Any, path: str) -> Severable:
        if key == ManifestKey.TEXT:
            return self.text(value, path)
        if key == ManifestKey.COSWID:
            return self.bytes_(value, path)
        return self.sequence(value, path)

    def manifest(self, spec: Any, path: str = "suit-manifest") -> Manifest:
        if not isinstance(spec, Mapping):
            raise SpecError("suit-manifest must be a map", path=path)
        known = {"suit-manifest-version", "suit-manifest-sequence-number", "suit-common", "suit-reference-uri",
                 "suit-manifest-component-id", "suit-set-version", "suit-manifest-extensions",
                 *_SEQUENCE_MEMBERS, *_SEVERABLE_NAMES}
        unknown = set(spec) - known
        if unknown:
            raise SpecError(f"unknown manifest member(s): {', '.join(sorted(map(str, unknown)))}", path=path)
        if "suit-manifest-sequence-number" not in spec:
            raise SpecError("suit-manifest-sequence-number is required", path=path)
        common = spec.get("suit-common")
        if not isinstance(common, Mapping) or "suit-components" not in common:
            raise SpecError("suit-common with suit-components is required", path=path)
        cpath = f"{path}/suit-common"
        comps = common["suit-components"]
        if not isinstance(comps, Sequence) or isinstance(comps, str) or not comps:
            raise SpecError("suit-components is a non-empty list", path=cpath)
        shared = common.get("suit-shared-sequence")
        kw: dict[str, Any] = {
            "version": self.uint(spec.get("suit-manifest-version", 1), f"{path}/suit-manifest-version"),
            "sequence_number": self.uint(spec["suit-manifest-sequence-number"], f"{path}/suit-manifest-sequence-number"),
            "common": Common(
                tuple(self.component_id(c, f"{cpath}/suit-components[{i}]") for i, c in enumerate(comps)),
                self.sequence(shared, f"{cpath}/suit-shared-sequence") if shared is not None else None,
                frozen_map(from_generic(common["suit-dependencies"], cpath)) if "suit-dependencies" in common else None,
                frozen_map(_generic_map(common.get("suit-common-extensions", {}), cpath)),
            ),
        }
        if "suit-reference-uri" in spec:
            kw["reference_uri"] = str(spec["suit-reference-uri"])
        if "suit-manifest-component-id" in spec:
            kw["manifest_component_id"] = self.component_id(spec["suit-manifest-component-id"], path)
        if "suit-set-version" in spec:
            kw["set_version"] = from_generic(spec["suit-set-version"], path)
        for name, attr in _SEQUENCE_MEMBERS.items():
            if name in spec:
                kw[attr] = self.sequence(spec[name], f"{path}/{name}")
        for name, key in _SEVERABLE_NAMES.items():
            if name in spec:
                value = spec[name]
                sub = f"{path}/{name}"
                if isinstance(value, Mapping) and set(value) == {"suit-digest"}:
                    kw[SEVERABLE_FIELDS[key]] = self.digest(value["suit-digest"], sub)
                else:
                    kw[SEVERABLE_FIELDS[key]] = self.severable_content(key, value, sub)
        kw["extensions"] = frozen_map(_generic_map(spec.get("suit-manifest-extensions", {}), path))
        return Manifest(**kw)


def _int_key(key: Any, path: str) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise SpecError(f"expected an integer key, got {key!r}", path=path) from None


def _hex(text: Any, path: str) -> bytes:
    if not isinstance(text, str):
        raise SpecError(f"expected a hex string, got {text!r}", path=path)
    body = text[2:-1] if text.startswith("h'") and text.endswith("'") else text
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise SpecError(f"not a hex string: {text!r}", path=path) from None


def _generic_map(value: Any, path: str) -> dict[Any, Any]:
    if not isinstance(value, Mapping):
        raise SpecError("extensions map keys (as strings) to values", path=path)
    out = {}
    for k, v in value.items():
        key = int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k
        out[key] = from_generic(v, f"{path}/{k}")
    return out


def from_generic(value: Any, path: str = "") -> Any:
    """A CBOR value from its JSON form (see :func:`to_generic`)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Sequence):
        return tuple(from_generic(v, path) for v in value)
    if isinstance(value, Mapping) and len(value) in (1, 2):
        if set(value) == {"bstr"}:
            return _hex(value["bstr"], path)
        if set(value) == {"tag", "value"}:
            return Tag(int(value["tag"]), from_generic(value["value"], path))
        if set(value) == {"simple"}:
            return Simple(int(value["simple"]))
        if set(value) == {"map"}:
            return {_hashable(from_generic(k, path)): from_generic(v, path) for k, v in value["map"]}
    raise SpecError(f"cannot read a CBOR value from {value!r} (use {{bstr:}}, {{tag:, value:}}, {{map:}})",
                    path=path)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise SpecError("a map key must be a scalar or an array") from None
    return value


def build_envelope(spec: Mapping[str, Any], *, base_dir: Path = Path("."),
                   read_file: Callable[[Path], bytes] | None = None) -> Envelope:
    """Build an envelope from a spec (``specs/MANIFEST-SPEC-FORMAT.md``).

    ``file:`` references are resolved against ``base_dir`` and read with ``read_file``
    (default: read from the filesystem; pass your own to keep the build free of I/O or to
    serve files from elsewhere). Each file is read once.

    The auth wrapper gets the manifest digest; ``suit-authentication-blocks`` are kept only
    if the spec's ``suit-authentication-digest`` still matches the built manifest (so a spec
    from ``suit inspect`` of a signed envelope rebuilds it exactly, and an edited one raises).
    """
    if not isinstance(spec, Mapping):
        raise SpecError("a spec is a map")
    known = {"suit-manifest", "suit-envelope-tagged", "severable", "suit-integrated-payloads",
             "suit-authentication-digest", "suit-authentication-blocks", "suit-delegation",
             "suit-envelope-elements", "suit-envelope-extensions", "suit-digest-algorithm"}
    unknown = set(spec) - known
    if unknown:
        raise SpecError(f"unknown top-level member(s): {', '.join(sorted(map(str, unknown)))}")
    if "suit-manifest" not in spec:
        raise SpecError("suit-manifest is required")
    b = _Builder(base_dir, read_file)
    alg = b.code(spec.get("suit-digest-algorithm", "sha256"), "digest", "suit-digest-algorithm")
    manifest = b.manifest(spec["suit-manifest"])
    elements: dict[int, Severable] = {}
    for name in spec.get("severable", ()):
        key = severable_key(name, "severable")
        content = manifest.severable(key)
        if content is None or isinstance(content, Digest):
            raise SpecError(f"{MANIFEST_NAMES[key]} is listed as severable but has no content", path="severable")
        elements[key] = content
        manifest = dataclasses.replace(manifest, **{SEVERABLE_FIELDS[key]: severable_digest(key, content, alg)})
    for name, value in (spec.get("suit-envelope-elements") or {}).items():
        key = severable_key(name, "suit-envelope-elements")
        elements[key] = b.severable_content(key, value, f"suit-envelope-elements/{name}")
    integrated = {}
    for name, value in (spec.get("suit-integrated-payloads") or {}).items():
        integrated[str(name)] = b.bytes_(value, f"suit-integrated-payloads/{name}")
    delegation = b.bytes_(spec["suit-delegation"], "suit-delegation") if "suit-delegation" in spec else None
    env = Envelope(
        AuthenticationWrapper(Digest(alg, b"")), manifest, frozen_map(elements), frozen_map(integrated),
        delegation, frozen_map(_generic_map(spec.get("suit-envelope-extensions", {}), "suit-envelope-extensions")),
        bool(spec.get("suit-envelope-tagged", True)),
    )
    blocks = tuple(b.bytes_(x, f"suit-authentication-blocks[{i}]")
                   for i, x in enumerate(spec.get("suit-authentication-blocks", ())))
    env = with_authentication(env, (), algorithm=alg)
    if blocks:
        recorded = spec.get("suit-authentication-digest")
        if recorded is None or b.digest(recorded, "suit-authentication-digest") != env.authentication.digest:
            raise SpecError("the manifest differs from the one the authentication blocks were made for; "
                            "remove suit-authentication-blocks and sign again", path="suit-authentication-blocks")
        env = dataclasses.replace(env, authentication=AuthenticationWrapper(env.authentication.digest, blocks))
    return env


# ============================================================================================
# model -> spec


def to_generic(value: Any) -> Any:
    """A JSON-able form of a decoded CBOR value: bytes ``{bstr: hex}``, tags ``{tag:, value:}``,
    maps ``{map: [[k, v], …]}``, simple values ``{simple: n}``; arrays are lists."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"bstr": bytes(value).hex()}
    if isinstance(value, (tuple, list)):
        return [to_generic(v) for v in value]
    if isinstance(value, Tag):
        return {"tag": value.number, "value": to_generic(value.value)}
    if isinstance(value, Simple):
        return {"simple": value.value}
    if isinstance(value, Mapping):
        return {"map": [[to_generic(k), to_generic(v)] for k, v in value.items()]}
    raise SuitError(f"cannot represent {type(value).__name__} in a spec")


def _digest_spec(d: Digest) -> dict[str, Any]:
    out: dict[str, Any] = {"suit-digest-algorithm-id": DIGEST_NAMES.get(d.algorithm, d.algorithm),
                           "suit-digest-bytes": d.value.hex()}
    if d.extra:
        out["suit-digest-extensions"] = [to_generic(x) for x in d.extra]
    return out


def _identifier_spec(value: Any) -> Any:
    if isinstance(value, Tag):
        return {"pen": value.value.hex()}
    if isinstance(value, bytes) and len(value) == 16:
        return str(uuid.UUID(bytes=value))
    return value.hex()


def _parameter_spec(code: int, value: Any) -> Any:
    if code in (Parameter.VENDOR_IDENTIFIER, Parameter.CLASS_IDENTIFIER, Parameter.DEVICE_IDENTIFIER):
        return _identifier_spec(value)
    if code == Parameter.IMAGE_DIGEST:
        return _digest_spec(value)
    if code == Parameter.VERSION:
        return {"comparison": VersionComparison(value.comparison).name.lower().replace("_", "-")
                if value.comparison in VersionComparison._value2member_map_ else value.comparison,
                "parts": list(value.parts)}
    if code in PARAMETER_NAMES and isinstance(value, bytes):
        return value.hex()
    if code in PARAMETER_NAMES:
        return value
    return to_generic(value)


def parameters_spec(params: Mapping[int, Any]) -> dict[str, Any]:
    return {PARAMETER_NAMES.get(code, str(code)): _parameter_spec(code, v) for code, v in params.items()}


def command_spec(command: Command) -> dict[str, Any]:
    code, arg = command.code, command.argument
    if code not in COMMAND_NAMES:
        return {"suit-command-custom": {"code": code, "argument": to_generic(arg)}}
    name = COMMAND_NAMES[code]
    if isinstance(arg, Parameters):
        return {name: parameters_spec(arg)}
    if isinstance(arg, TryEach):
        seqs: list[Any] = [sequence_spec(s) for s in arg.sequences]
        if arg.empty_allowed:
            seqs.append(None)
        return {name: seqs}
    if isinstance(arg, CommandSequence):
        return {name: sequence_spec(arg)}
    if code == Directive.OVERRIDE_MULTIPLE:
        return {name: {str(k): parameters_spec(v) for k, v in arg.items()}}
    if code == Directive.COPY_PARAMS:
        return {name: {str(k): [PARAMETER_NAMES.get(p, str(p)) for p in v] for k, v in arg.items()}}
    if isinstance(arg, tuple):
        return {name: list(arg)}
    return {name: arg}


def sequence_spec(seq: CommandSequence) -> list[dict[str, Any]]:
    return [command_spec(c) for c in seq.commands]


def _text_spec(text: Text) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang, entry in text.languages.items():
        lmap: dict[str, Any] = {TEXT_NAMES.get(k, str(k)): to_generic(v) for k, v in entry.fields.items()}
        if entry.components:
            lmap["suit-text-components"] = [
                {"suit-component-identifier": [p.hex() for p in cid.parts],
                 **{TEXT_COMPONENT_NAMES.get(k, str(k)): to_generic(v) for k, v in fields.items()}}
                for cid, fields in entry.components.items()]
        out[lang] = lmap
    return out


def _severable_spec(key: int, content: Severable) -> Any:
    if isinstance(content, Text):
        return _text_spec(content)
    if isinstance(content, bytes):
        return content.hex()
    return sequence_spec(content)


def manifest_to_spec(m: Manifest) -> dict[str, Any]:
    """The spec form of a manifest (the value of ``suit-manifest``)."""
    common: dict[str, Any] = {"suit-components": [[p.hex() for p in c.parts] for c in m.common.components]}
    if m.common.shared_sequence is not None:
        common["suit-shared-sequence"] = sequence_spec(m.common.shared_sequence)
    if m.common.dependencies is not None:
        common["suit-dependencies"] = to_generic(dict(m.common.dependencies))
    if m.common.extensions:
        common["suit-common-extensions"] = {str(k): to_generic(v) for k, v in m.common.extensions.items()}
    out: dict[str, Any] = {"suit-manifest-version": m.version, "suit-manifest-sequence-number": m.sequence_number,
                           "suit-common": common}
    if m.reference_uri is not None:
        out["suit-reference-uri"] = m.reference_uri
    if m.manifest_component_id is not None:
        out["suit-manifest-component-id"] = [p.hex() for p in m.manifest_component_id.parts]
    if m.set_version is not None:
        out["suit-set-version"] = to_generic(m.set_version)
    for name, attr in _SEQUENCE_MEMBERS.items():
        seq = getattr(m, attr)
        if seq is not None:
            out[name] = sequence_spec(seq)
    for key, attr in SEVERABLE_FIELDS.items():
        value = getattr(m, attr)
        if value is None:
            continue
        name = MANIFEST_NAMES[key]
        out[name] = {"suit-digest": _digest_spec(value)} if isinstance(value, Digest) else _severable_spec(key, value)
    if m.extensions:
        out["suit-manifest-extensions"] = {str(k): to_generic(v) for k, v in m.extensions.items()}
    return out


def envelope_to_spec(env: Envelope) -> dict[str, Any]:
    """A JSON-able spec from which :func:`build_envelope` rebuilds ``env`` byte for byte.

    Severable members the envelope carries and that match their digests become inline content
    listed under ``severable``; others stay digests (their envelope copy, if any, goes under
    ``suit-envelope-elements``). Signatures are kept with the digest they cover.
    """
    manifest = env.manifest
    severable: list[str] = []
    extra_elements: dict[str, Any] = {}
    alg = env.authentication.digest.algorithm
    for key, content in env.elements.items():
        expected = manifest.severable(key)
        name = MANIFEST_NAMES[key]
        if isinstance(expected, Digest) and expected.algorithm == alg and \
                expected == severable_digest(key, content, alg):
            severable.append(name)
            manifest = dataclasses.replace(manifest, **{SEVERABLE_FIELDS[key]: content})
        else:
            extra_elements[name] = _severable_spec(key, content)
    out: dict[str, Any] = {"suit-envelope-tagged": env.tagged,
                           "suit-digest-algorithm": DIGEST_NAMES.get(alg, alg),
                           "suit-manifest": manifest_to_spec(manifest)}
    if severable:
        out["severable"] = severable
    if extra_elements:
        out["suit-envelope-elements"] = extra_elements
    if env.integrated:
        out["suit-integrated-payloads"] = {k: v.hex() for k, v in env.integrated.items()}
    if env.delegation is not None:
        out["suit-delegation"] = env.delegation.hex()
    if env.extensions:
        out["suit-envelope-extensions"] = {str(k): to_generic(v) for k, v in env.extensions.items()}
    if env.authentication.blocks:
        out["suit-authentication-digest"] = _digest_spec(env.authentication.digest)
        out["suit-authentication-blocks"] = [b.hex() for b in env.authentication.blocks]
    return out


__all__ = ["SpecError", "UUID_NAMESPACES", "build_envelope", "envelope_to_spec", "from_generic",
           "manifest_to_spec", "severable_key", "to_generic"]
