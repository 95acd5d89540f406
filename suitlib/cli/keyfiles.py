"""Reading keys, passwords and envelopes for the `suit` verbs (never a secret on argv)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from suitlib.cli.files import read_input
from suitlib.cose import (
    PrivateKey,
    PublicKey,
    SymmetricKey,
    TrustAnchor,
    import_cose_key,
    load_pem,
)
from suitlib.errors import InputError, KeyFormatError
from suitlib.limits import DEFAULT_LIMITS
from suitlib.manifest import Envelope, decode_envelope

MAX_KEY_FILE = 1 << 16

password_env_option = click.option(
    "--password-env", metavar="VAR", help="Read the key password from environment variable VAR.")
password_file_option = click.option(
    "--password-file", metavar="FILE", type=click.Path(dir_okay=False),
    help="Read the key password from FILE (one trailing newline is ignored).")


def read_password(password_env: str | None, password_file: str | None) -> bytes | None:
    """The password from an environment variable or a file; ``None`` when neither is given."""
    if password_env and password_file:
        raise InputError("give --password-env or --password-file, not both",
                         hint="choose one source for the password")
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            raise InputError(f"environment variable {password_env} is not set or empty",
                             hint=f"export {password_env}=… before running suit")
        return value.encode()
    if password_file:
        data = read_input(password_file, what="password file", max_size=4096)
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        if not data:
            raise InputError(f"password file {password_file} is empty",
                             hint="write the password on the first line of the file")
        return data
    return None


def parse_kid(text: str | None) -> bytes | None:
    """A key id from the command line: UTF-8 text, or ``hex:0a1b…`` for binary ids."""
    if text is None:
        return None
    if text.startswith("hex:"):
        try:
            return bytes.fromhex(text[4:])
        except ValueError:
            raise InputError(f"--kid {text!r} is not valid hex", hint="write binary kids as hex:0a1b2c") from None
    if not text:
        raise InputError("--kid must not be empty", hint="give a text id or hex:…")
    return text.encode()


AnyKey = PrivateKey | PublicKey | SymmetricKey


def load_key_file(path: str, *, password: bytes | None = None, what: str = "key") -> tuple[AnyKey, bytes | None]:
    """A PEM (PKCS#8, SEC1, SPKI) or COSE_Key file → ``(key, kid from the COSE_Key or None)``."""
    data = read_input(path, what=f"{what} file", max_size=MAX_KEY_FILE)
    label = f"{what} {path}"
    if data.lstrip().startswith(b"-----BEGIN"):
        return load_pem(data, password=password, what=label), None
    try:
        key, kid, _ = import_cose_key(data)
    except KeyFormatError as exc:
        raise KeyFormatError(f"{label} is neither PEM nor a COSE_Key ({exc.message})") from None
    return key, kid


def load_trust_anchors(paths: tuple[str, ...]) -> list[TrustAnchor]:
    anchors = []
    for path in paths:
        key, kid = load_key_file(path, what="public key")
        if isinstance(key, PrivateKey):
            key = key.public_key()
        anchors.append(TrustAnchor(key, kid=kid, name=Path(path).name))
    return anchors


def read_envelope(path: str) -> tuple[bytes, Envelope]:
    data = read_input(path, what="envelope", max_size=DEFAULT_LIMITS.max_envelope_size)
    return data, decode_envelope(data)


def note(message: str) -> None:
    """Progress and logs go to stderr, silenced by ``suit -q``."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, dict) and root.obj.get("quiet"):
        return
    click.echo(message, err=True)
