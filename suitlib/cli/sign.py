"""`suit sign`: add a COSE_Sign1 (or COSE_Mac0) to an envelope, or sign in two steps externally."""

from __future__ import annotations

import click

from suitlib.cli.files import read_input, write_atomic
from suitlib.cli.keyfiles import (
    load_key_file,
    note,
    parse_kid,
    password_env_option,
    password_file_option,
    read_envelope,
    read_password,
)
from suitlib.cose import Algorithm, KeySigner, MacSigner, PrivateKey, PublicKey, SymmetricKey, algorithm_from_name
from suitlib.errors import InputError, KeyFormatError
from suitlib.manifest import encode_envelope
from suitlib.manifest.auth import attach_signature, sign_envelope, tbs_bytes

ALG_NAMES = ["ES256", "ESP256", "EdDSA", "Ed25519", "HMAC-256/256"]


@click.command()
@click.argument("envelope_file", metavar="ENVELOPE")
@click.option("-k", "--key", "key_file", metavar="KEY", help="Private key (PEM or COSE_Key); with --signature, the public key.")
@click.option("--alg", type=click.Choice(ALG_NAMES, case_sensitive=False),
              help="COSE algorithm [default: ES256 for P-256, EdDSA for Ed25519].")
@click.option("--kid", help="Key id (text, or hex:… for bytes), put in the unprotected header.")
@click.option("--kid-protected", is_flag=True, help="Put the kid in the protected (signed) header.")
@click.option("--append", "append", is_flag=True, help="Keep existing signatures and add this one.")
@click.option("--replace", "replace", is_flag=True, help="Drop existing signatures first.")
@click.option("-o", "--output", metavar="OUT", help="Signed envelope to write ('-' = stdout).")
@click.option("--emit-tbs", metavar="TBS.bin", help="Write the bytes to be signed (Sig_structure) and stop.")
@click.option("--signature", "signature_file", metavar="SIG.bin",
              help="Attach a signature made elsewhere over the --emit-tbs bytes (raw r||s or DER).")
@password_env_option
@password_file_option
def sign(envelope_file: str, key_file: str | None, alg: str | None, kid: str | None, kid_protected: bool,
         append: bool, replace: bool, output: str | None, emit_tbs: str | None, signature_file: str | None,
         password_env: str | None, password_file: str | None) -> None:
    """Sign ENVELOPE (draft-ietf-suit-manifest-34 §8.3).

    \b
    One step:      suit sign ENV --key KEY.pem -o OUT
    External, 1/2: suit sign ENV --emit-tbs TBS.bin [--alg ALG] [--kid ID]
    External, 2/2: suit sign ENV --signature SIG.bin --key PUB.pem [--alg ALG] [--kid ID] -o OUT
    """
    if append and replace:
        raise InputError("--append and --replace exclude each other", hint="pass one of them")
    if emit_tbs and signature_file:
        raise InputError("--emit-tbs and --signature are two separate steps",
                         hint="run --emit-tbs first, sign the bytes, then attach with --signature")
    mode = "append" if append else "replace" if replace else "error"
    algorithm = algorithm_from_name(alg) if alg else None
    key_id = parse_kid(kid)
    _, env = read_envelope(envelope_file)

    if emit_tbs:
        if output:
            raise InputError("--emit-tbs writes only the bytes to be signed; drop -o",
                             hint="attach the signature later with --signature SIG -o OUT")
        if algorithm is None:
            algorithm = Algorithm.ES256
            if key_file:
                key, _ = load_key_file(key_file, password=read_password(password_env, password_file))
                if isinstance(key, SymmetricKey):
                    raise InputError("external signing is for asymmetric keys; sign MACs directly",
                                     hint="suit sign ENV --key KEY.cose -o OUT")
                algorithm = key.key_type.default_alg
        write_atomic(emit_tbs, tbs_bytes(env, algorithm, key_id, kid_protected=kid_protected))
        note(f"wrote {emit_tbs}: Sig_structure for {algorithm.cose_name}; sign it with SHA-256 "
             f"{'ECDSA' if algorithm.is_ecdsa else 'Ed25519'}, then attach with --signature")
        return

    if not output:
        raise InputError("missing -o OUT", hint="where should the signed envelope go?")
    if not key_file:
        raise InputError("missing --key", hint="the private key to sign with (or the public key with --signature)")
    key, cose_kid = load_key_file(key_file, password=read_password(password_env, password_file))
    if key_id is None:
        key_id = cose_kid

    if signature_file:
        if isinstance(key, SymmetricKey):
            raise KeyFormatError("--signature needs the signer's public key, not a symmetric key")
        public = key.public_key() if isinstance(key, PrivateKey) else key
        algorithm = algorithm or public.key_type.default_alg
        signature = read_input(signature_file, what="signature", max_size=4096)
        signed = attach_signature(env, signature, public, algorithm, key_id, mode=mode, kid_protected=kid_protected)
        what = f"attached {algorithm.cose_name} signature by {public.fingerprint()}"
    elif isinstance(key, SymmetricKey):
        if algorithm not in (None, Algorithm.HMAC_256_256):
            raise KeyFormatError(f"a symmetric key cannot sign with {algorithm.cose_name}")
        signed = sign_envelope(env, MacSigner(key, key_id), mode=mode, kid_protected=kid_protected)
        what = "added HMAC 256/256 COSE_Mac0"
    elif isinstance(key, PublicKey):
        raise KeyFormatError(f"{key_file} is a public key; signing needs the private key",
                             hint="pass the private key, or attach an external signature with --signature")
    else:
        signer = KeySigner(key, algorithm, key_id)
        signed = sign_envelope(env, signer, mode=mode, kid_protected=kid_protected)
        what = f"signed with {signer.alg.cose_name} by {key.public_key().fingerprint()}"
    data = encode_envelope(signed)
    write_atomic(output, data)
    kid_note = f", kid {key_id!r}" if key_id is not None else ""
    note(f"{what}{kid_note}; wrote {output} ({len(data)} bytes, {len(signed.authentication.blocks)} block(s))")
