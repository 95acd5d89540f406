"""`suit encrypt`: encrypt a payload for SUIT (draft-ietf-suit-firmware-encryption), or decrypt one.

Encrypting writes the detached ciphertext and the SUIT_Encryption_Info (the COSE_Encrypt bytes to
put into ``suit-parameter-encryption-info``). Recipient keys come from files or environment
variables, never from the command line:

- an AES-KW key-encryption key (16 bytes: A128KW, 32 bytes: A256KW) as raw bytes, hex text, or a
  COSE_Key of kty Symmetric (4); from ``--recipient-key FILE`` or ``--recipient-key-env VAR``
  (hex);
- a P-256 public key (SPKI PEM, or the private key, reduced to its public half) for
  ECDH-ES+A128KW; to decrypt, the P-256 private key (PKCS#8 / SEC1 PEM, optionally encrypted).
"""

from __future__ import annotations

import os
import string
from typing import Any

import click

from suitlib.cli.files import read_input, write_atomic
from suitlib.cli.keyfiles import note, parse_kid, password_env_option, password_file_option, read_password
from suitlib.cose.encrypt import (
    CONTENT_BY_NAME,
    KEY_DISTRIBUTION_BY_NAME,
    ContentAlgorithm,
    DecryptionKey,
    EcdhKey,
    EcdhRecipient,
    KeyDistribution,
    KeyWrapKey,
    RecipientKey,
    decode_encryption_info,
    decrypt_payload,
    encrypt_payload,
    import_kek,
)
from suitlib.cose.keys import PrivateKey, PublicKey, load_pem
from suitlib.errors import InputError, KeyFormatError

MAX_KEY_FILE = 1 << 16
MAX_INFO = 1 << 16
_HEX = frozenset(string.hexdigits)


def kek_from_bytes(data: bytes, *, what: str) -> KeyWrapKey:
    """A COSE_Key (kty Symmetric), hex text of 32/64 digits (surrounding whitespace ignored), or
    raw 16/32 bytes — tried in that order, so a file of only 32 or 64 hex digits is read as hex.
    """
    if data[:1] and 0xA0 <= data[0] <= 0xBF:  # a CBOR map: a COSE_Key (else a raw key that starts so)
        try:
            return import_kek(data)
        except KeyFormatError:
            if len(data) not in (16, 32):
                raise
    text = data.strip()
    if len(text) in (32, 64) and all(chr(c) in _HEX for c in text):
        return KeyWrapKey(bytes.fromhex(text.decode()))
    if len(data) in (16, 32):
        return KeyWrapKey(bytes(data))
    raise KeyFormatError(
        f"{what} is not a 16- or 32-byte key-encryption key (raw, hex or COSE_Key), nor a PEM key",
        hint="make one with: head -c 16 /dev/urandom > kek.bin",
    )


def _read_key_source(key_file: str | None, key_env: str | None) -> tuple[bytes, str]:
    if bool(key_file) == bool(key_env):
        raise InputError("give exactly one of --recipient-key FILE or --recipient-key-env VAR",
                         hint="secrets are read from files or the environment, never from the command line")
    if key_env:
        value = os.environ.get(key_env)
        if not value:
            raise InputError(f"environment variable {key_env} is not set or empty",
                             hint=f"export {key_env}=<hex of the 16- or 32-byte key>")
        return value.encode(), f"environment variable {key_env}"
    assert key_file is not None
    return read_input(key_file, what="recipient key file", max_size=MAX_KEY_FILE), f"key file {key_file}"


def _with_kid(key: Any, kid: bytes | None) -> Any:
    """``key`` with ``kid`` from the command line (which wins over a kid in a COSE_Key file)."""
    if kid is None:
        return key
    if isinstance(key, KeyWrapKey):
        return KeyWrapKey(key.secret, kid=kid)
    if isinstance(key, EcdhRecipient):
        return EcdhRecipient(key.public_key, kid=kid)
    return EcdhKey(key.private_key, kid=kid)


def _sender_key(data: bytes, what: str, alg: KeyDistribution | None, kid: bytes | None) -> RecipientKey:
    key: RecipientKey
    if data.lstrip().startswith(b"-----BEGIN"):
        pem = load_pem(data, what=what)
        public = pem.public_key() if isinstance(pem, PrivateKey) else pem
        key = EcdhRecipient(public)
    else:
        key = kek_from_bytes(data, what=what)
    return _check_alg(_with_kid(key, kid), alg)


def _device_key(data: bytes, what: str, alg: KeyDistribution | None, kid: bytes | None,
                password: bytes | None) -> DecryptionKey:
    key: DecryptionKey
    if data.lstrip().startswith(b"-----BEGIN"):
        pem = load_pem(data, password=password, what=what)
        if isinstance(pem, PublicKey):
            raise KeyFormatError(f"{what} is a public key; decrypting needs the device's private key")
        key = EcdhKey(pem)
    else:
        key = kek_from_bytes(data, what=what)
    return _check_alg(_with_kid(key, kid), alg)


def _check_alg(key: Any, alg: KeyDistribution | None) -> Any:
    actual = KeyDistribution.ECDH_ES_A128KW if isinstance(key, (EcdhRecipient, EcdhKey)) else key.alg
    if alg is not None and alg is not actual:
        raise InputError(
            f"--alg {alg.cose_name} does not fit the key given ({actual.cose_name})",
            hint="A128KW takes a 16-byte secret, A256KW a 32-byte secret, ECDH-ES+A128KW a P-256 key",
        )
    return key


@click.command()
@click.argument("input_file", metavar="FIRMWARE")
@click.option("--recipient-key", "key_files", metavar="FILE", multiple=True,
              help="AES-KW secret (raw, hex or COSE_Key) or P-256 key PEM; repeat for more recipients.")
@click.option("--recipient-key-env", "key_env", metavar="VAR", help="Read a hex AES-KW secret from VAR.")
@click.option("--alg", type=click.Choice(["A128KW", "A256KW", "ECDH-ES+A128KW"], case_sensitive=False),
              help="Key distribution [default: from the key: its size, or ECDH-ES+A128KW for a PEM key].")
@click.option("--content-alg", type=click.Choice(["A128GCM", "A128CTR"], case_sensitive=False),
              default="A128GCM", show_default=True, help="Payload encryption algorithm.")
@click.option("--kid", help="Key id for the recipient (text, or hex:… for bytes).")
@click.option("-o", "--output", metavar="OUT", required=True, help="Ciphertext (or, with --decrypt, plaintext) to write.")
@click.option("--info-out", metavar="ENCINFO.cbor", help="SUIT_Encryption_Info to write (encrypting).")
@click.option("--decrypt", is_flag=True, help="Decrypt FIRMWARE (a ciphertext) with --info and the device key.")
@click.option("--info", "info_file", metavar="ENCINFO.cbor", help="SUIT_Encryption_Info to decrypt with.")
@password_env_option
@password_file_option
def encrypt(input_file: str, key_files: tuple[str, ...], key_env: str | None, alg: str | None, content_alg: str,
            kid: str | None, output: str, info_out: str | None, decrypt: bool, info_file: str | None,
            password_env: str | None, password_file: str | None) -> None:
    """Encrypt FIRMWARE for SUIT devices (draft-ietf-suit-firmware-encryption).

    \b
    Encrypt: suit encrypt fw.bin --recipient-key kek.bin -o fw.enc --info-out fw.encinfo
             suit encrypt fw.bin --recipient-key device.pub.pem --content-alg A128CTR -o … --info-out …
    Decrypt: suit encrypt --decrypt fw.enc --info fw.encinfo --recipient-key device.pem -o fw.bin
    """
    algorithm = KEY_DISTRIBUTION_BY_NAME[alg.lower()] if alg else None
    key_id = parse_kid(kid)
    sources: list[tuple[bytes, str]] = []
    if key_env:
        sources.append(_read_key_source(None, key_env))
    sources.extend(_read_key_source(path, None) for path in key_files)
    if not sources:
        raise InputError("no recipient key given",
                         hint="pass --recipient-key FILE or --recipient-key-env VAR")
    if decrypt:
        if info_out:
            raise InputError("--info-out is for encrypting; to decrypt give --info", hint="drop --info-out")
        if not info_file:
            raise InputError("--decrypt needs --info ENCINFO.cbor", hint="give the SUIT_Encryption_Info file")
        password = read_password(password_env, password_file)
        keys = [_device_key(data, what, algorithm, key_id, password) for data, what in sources]
        info = decode_encryption_info(read_input(info_file, what="encryption info", max_size=MAX_INFO))
        ciphertext = read_input(input_file, what="ciphertext")
        plaintext = decrypt_payload(ciphertext, info, keys)
        write_atomic(output, plaintext)
        note(f"decrypted {len(ciphertext)} bytes of {info.alg.cose_name} into {len(plaintext)} bytes -> {output}")
        if not info.alg.is_aead:
            note("note: A128CTR has no integrity of its own; check the plaintext against the manifest's image digest")
        return
    if info_file:
        raise InputError("--info is for --decrypt; to encrypt give --info-out", hint="drop --info or add --decrypt")
    if not info_out:
        raise InputError("encrypting needs --info-out ENCINFO.cbor", hint="the encryption info goes into the manifest")
    if key_id is not None and len(sources) > 1:
        raise InputError("--kid names one recipient; with several, put the kid in each COSE_Key file")
    recipients = [_sender_key(data, what, algorithm, key_id) for data, what in sources]
    content = CONTENT_BY_NAME[content_alg.lower()]
    plaintext = read_input(input_file, what="firmware")
    result = encrypt_payload(plaintext, recipients, content_alg=content)
    write_atomic(output, result.ciphertext)
    write_atomic(info_out, result.info)
    names = ", ".join(sorted({_alg_name(r) for r in recipients}))
    note(f"encrypted {len(plaintext)} bytes with {content.cose_name} for {len(recipients)} recipient(s) ({names}) "
         f"-> {output} ({len(result.ciphertext)} bytes), {info_out} ({len(result.info)} bytes)")
    if content is ContentAlgorithm.A128CTR:
        note("note: A128CTR has no integrity of its own; the manifest must carry the image digest of the plaintext")


def _alg_name(key: RecipientKey) -> str:
    return KeyDistribution.ECDH_ES_A128KW.cose_name if isinstance(key, EcdhRecipient) else key.alg.cose_name
