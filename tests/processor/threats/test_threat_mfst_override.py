"""RFC 9124 §4.2.13 THREAT.MFST.OVERRIDE → REQ.SEC.ACCESS_CONTROL.

Only the Author's signed manifest decides what runs. Mechanisms by which another party could
override its elements are either authenticated or refused: dependency manifests (trust domains)
are not processed (process-dependency is refused), and severed members are bound to the
digests in the signed manifest, so a substituted install sequence is rejected.
"""

from __future__ import annotations

import dataclasses

from suitlib.errors import DigestMismatchError, UnsupportedError
from suitlib.manifest import decode_envelope, encode_envelope, with_authentication
from suitlib.manifest.auth import sign_envelope
from suitlib.manifest.digests import severable_digest
from suitlib.processor.program import Cmd
from suitlib.processor.report import ReportReason
from tests.processor.support import build, device, install_of, payload, processor, seq, spec_signer

FW, EVIL = payload(1000, 140), payload(1000, 141)


def test_process_dependency_is_refused() -> None:
    install = seq(Cmd.DIRECTIVE_PROCESS_DEPENDENCY, 15)
    result = processor(device()).update(build(install=install))
    assert isinstance(result.error, UnsupportedError)
    assert result.report.result.reason == ReportReason.COMMAND_UNSUPPORTED


def test_a_substituted_severed_install_sequence_is_rejected() -> None:
    genuine = decode_envelope(build(install=install_of("coap://fw", FW)))
    install = genuine.manifest.install
    severed_manifest = dataclasses.replace(genuine.manifest, install=severable_digest(20, install))
    # the Author signs the manifest that holds the install digest
    env = with_authentication(dataclasses.replace(genuine, manifest=severed_manifest, elements={20: install}))
    env = sign_envelope(env, spec_signer())
    good = encode_envelope(env)
    platform = device(resources={"coap://fw": FW, "coap://evil": EVIL})
    assert processor(platform).update(good).ok
    # someone else swaps the severed install for one that fetches their image
    forged = encode_envelope(dataclasses.replace(env, elements={20: install_of("coap://evil", EVIL)}))
    platform = device(resources={"coap://fw": FW, "coap://evil": EVIL})
    result = processor(platform).update(forged)
    assert isinstance(result.error, DigestMismatchError)
    assert platform.fetcher_impl.requests == []
