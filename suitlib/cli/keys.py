"""`suit keygen` and `suit pubkey`: make signing keys and export their public half."""

from __future__ import annotations

import os
from pathlib import Path

import click

from suitlib.cli.files import write_atomic
from suitlib.cli.keyfiles import (
    load_key_file,
    note,
    parse_kid,
    password_env_option,
    password_file_option,
    read_password,
)
from suitlib.cose import KeyType, PrivateKey, SymmetricKey, export_cose_key
from suitlib.errors import InputError


def public_path_for(private: Path) -> Path:
    """``key.pem`` → ``key.pub.pem`` (the public key is written beside the private one)."""
    if private.suffix == ".pem":
        return private.with_suffix(".pub.pem")
    return private.with_name(private.name + ".pub.pem")


@click.command()
@click.option("--type", "key_type", type=click.Choice([t.value for t in KeyType]), default="p256",
              show_default=True, help="Key type: P-256 (ES256/ESP256) or Ed25519 (EdDSA/Ed25519).")
@click.option("-o", "--output", required=True, metavar="KEY.pem", help="Private key file (PKCS#8 PEM, mode 0600).")
@click.option("--public-out", metavar="PUB.pem", help="Public key file [default: KEY.pub.pem].")
@password_env_option
@password_file_option
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def keygen(key_type: str, output: str, public_out: str | None, password_env: str | None,
           password_file: str | None, force: bool) -> None:
    """Generate a signing key pair.

    The private key is PKCS#8 PEM, encrypted when a password is given (PBES2 with
    PBKDF2-HMAC-SHA256 and AES-256-CBC); the public key is SPKI PEM.
    """
    private_path = Path(output)
    public_path = Path(public_out) if public_out else public_path_for(private_path)
    if private_path == public_path:
        raise InputError("the public key path is the private key path",
                         hint="choose another --public-out")
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise InputError(f"{path} exists", hint="pass --force to overwrite it")
    password = read_password(password_env, password_file)
    key = PrivateKey.generate(KeyType(key_type))
    private_pem = key.to_pem(password)
    public_pem = key.public_key().to_pem()
    write_atomic(private_path, private_pem, mode=0o600)
    try:
        write_atomic(public_path, public_pem)
    except BaseException:
        os.unlink(private_path)
        raise
    note(f"wrote {key_type} private key {private_path}{' (encrypted)' if password else ''}")
    note(f"wrote public key {public_path} (fingerprint {key.public_key().fingerprint()})")


@click.command()
@click.argument("key_file", metavar="KEY")
@click.option("--format", "fmt", type=click.Choice(["pem", "cose-key", "c-array"]), default="pem",
              show_default=True, help="Output format.")
@click.option("-o", "--output", default="-", show_default=True, help="Output file ('-' = stdout).")
@click.option("--kid", help="Key id to put in a COSE_Key (text, or hex:… for bytes).")
@click.option("--name", default="suit_public_key", show_default=True, help="C identifier for --format c-array.")
@password_env_option
@password_file_option
def pubkey(key_file: str, fmt: str, output: str, kid: str | None, name: str,
           password_env: str | None, password_file: str | None) -> None:
    """Print the public key of KEY (PEM or COSE_Key, private or public) as SPKI PEM, a COSE_Key
    (RFC 9052 §7, binary) or a C array for a bootloader."""
    key, cose_kid = load_key_file(key_file, password=read_password(password_env, password_file))
    if isinstance(key, SymmetricKey):
        raise InputError(f"{key_file} is a symmetric key: it has no public half",
                         hint="pubkey exports P-256 and Ed25519 public keys")
    public = key.public_key() if isinstance(key, PrivateKey) else key
    if fmt == "pem":
        data = public.to_pem()
    elif fmt == "cose-key":
        data = export_cose_key(public, kid=parse_kid(kid) if kid else cose_kid)
    else:
        if not name.isidentifier():
            raise InputError(f"--name {name!r} is not a C identifier", hint="use letters, digits and _")
        data = public.to_c_array(name).encode()
    write_atomic(output, data)
