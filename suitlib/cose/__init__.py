"""COSE for SUIT authentication (RFC 9052, RFC 9053, RFC 9864): keys, COSE_Sign1, COSE_Mac0.

Built on pycryptodome. Public API:

- keys: :class:`KeyType`, :class:`PrivateKey`, :class:`PublicKey`, :class:`SymmetricKey`,
  :func:`load_pem`, :func:`load_private_pem`, :func:`load_public_pem`,
  :func:`export_cose_key`, :func:`import_cose_key`, :func:`signature_to_raw`;
- messages: :class:`Sign1`, :class:`Mac0`, :func:`decode_message`, :func:`sig_structure`;
- signing: the :class:`Signer` protocol, :class:`KeySigner`, :class:`MacSigner`,
  :func:`create_message`, :func:`to_be_signed`, :func:`assemble`;
- verifying: :class:`TrustAnchor`, :class:`TrustAnchors`, :class:`VerifiedSigner`,
  :class:`Threshold`, :func:`verify_blocks` (any :class:`Verifier`).
"""

from suitlib.cose.algorithms import Algorithm, algorithm_from_id, algorithm_from_name
from suitlib.cose.cose_key import export_cose_key, import_cose_key
from suitlib.cose.headers import HeaderLabel, Headers
from suitlib.cose.keys import (
    KeyType,
    PrivateKey,
    PublicKey,
    SymmetricKey,
    load_pem,
    load_private_pem,
    load_public_pem,
    signature_to_raw,
)
from suitlib.cose.messages import CoseMessage, Mac0, Sign1, decode_message, mac_structure, sig_structure
from suitlib.cose.signer import KeySigner, MacSigner, Signer, assemble, create_message, to_be_signed
from suitlib.cose.trust import ANY_ONE, Policy, Threshold, TrustAnchor, TrustAnchors, VerifiedSigner, Verifier, verify_blocks

__all__ = [
    "ANY_ONE", "Algorithm", "CoseMessage", "HeaderLabel", "Headers", "KeySigner", "KeyType", "Mac0",
    "MacSigner", "Policy", "PrivateKey", "PublicKey", "Sign1", "Signer", "SymmetricKey", "Threshold",
    "TrustAnchor", "TrustAnchors", "VerifiedSigner", "Verifier", "algorithm_from_id", "algorithm_from_name",
    "assemble", "create_message", "decode_message", "export_cose_key", "import_cose_key", "load_pem",
    "load_private_pem", "load_public_pem", "mac_structure", "sig_structure", "signature_to_raw",
    "to_be_signed", "verify_blocks",
]
