"""Verification cost of a 2-of-3 envelope vs a single-signature one, measured in the same run.

Workload (issue 8): a firmware envelope (vendor/class checks, fetch + image-match of one
component from a URI) authorised by :func:`suitlib.trust.authorize`:

- single: a 1-of-1 trust policy, one ES256 signature;
- 2-of-3: a 2-of-3 policy (vendor, operator, escrow), signatures by vendor and operator;
- delegated (for information): a 1-of-1 policy, signed by a key one delegation CWT away.

The existing single-anchor path (``suitlib.processor.authenticate_envelope``) is measured too, so
the cost of the trust layer itself is visible. Target: 2-of-3 / single <= 2.2.

Times are process CPU time (time.process_time) per authorisation, median of rounds that
alternate the workloads, so other load on a shared machine does not distort the ratio.

Run: .venv/bin/python benchmarks/bench_trust.py [--rounds N] [--per-round N] [--strict]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from Crypto.PublicKey import ECC  # noqa: E402

from suitlib.cose import KeySigner, PrivateKey  # noqa: E402
from suitlib.manifest import (  # noqa: E402
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    encode_envelope,
    with_authentication,
)
from suitlib.manifest.auth import sign_envelope  # noqa: E402
from suitlib.processor import authenticate_envelope  # noqa: E402
from suitlib.processor.program import Cmd, Param  # noqa: E402
from suitlib.trust import Anchor, Scope, TrustPolicy, authorize, issue_delegation, with_delegation  # noqa: E402

VENDOR = bytes.fromhex("fa6b4a53d5ad5fdfbe9de663e4d41ffe")
CLASS = bytes.fromhex("1492af1425695e48bf429b2d51f2ab45")
APP = (b"app",)
NOW = 1_800_000_000
TARGET = 2.2
ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def key(name: str) -> PrivateKey:
    d = int.from_bytes(hashlib.sha256(name.encode()).digest(), "big") % (ORDER - 1) + 1
    return PrivateKey.from_ecc(ECC.construct(curve="P-256", d=d))


def signer(name: str) -> KeySigner:
    return KeySigner(key(name), kid=name.encode())


def anchor(name: str) -> Anchor:
    return Anchor(name, key(name).public_key(), kid=name.encode(), admin=True)


def seq(*pairs: object) -> CommandSequence:
    return CommandSequence(tuple(Command(int(pairs[i]), pairs[i + 1]) for i in range(0, len(pairs), 2)))  # type: ignore[call-overload]


def envelope(names: list[str]) -> bytes:
    image = hashlib.sha256(b"firmware").digest() * 8192  # 256 KiB image, fetched by URI
    shared = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Parameters({Param.VENDOR_IDENTIFIER: VENDOR, Param.CLASS_IDENTIFIER: CLASS}),
                 Cmd.CONDITION_VENDOR_IDENTIFIER, 15, Cmd.CONDITION_CLASS_IDENTIFIER, 15)
    install = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Parameters({
        Param.URI: "coap://updates.example/fw/app.bin",
        Param.IMAGE_DIGEST: Digest(-16, hashlib.sha256(image).digest()),
        Param.IMAGE_SIZE: len(image)}),
        Cmd.DIRECTIVE_FETCH, 2, Cmd.CONDITION_IMAGE_MATCH, 15)
    manifest = Manifest(sequence_number=7, common=Common((ComponentId(APP),), shared), install=install)
    env = with_authentication(Envelope(AuthenticationWrapper(Digest(-16, b"\0" * 32)), manifest))
    for name in names:
        env = sign_envelope(env, signer(name), mode="append")
    return encode_envelope(env)


def per_call(fn: Callable[[], object], count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        fn()
    return (time.process_time() - start) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=40)
    parser.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args()

    single_policy = TrustPolicy(1, (anchor("vendor"),))
    k_of_n = TrustPolicy(1, (anchor("vendor"), anchor("operator"), anchor("escrow")), threshold=2)
    single = envelope(["vendor"])
    two = envelope(["vendor", "operator"])
    token = issue_delegation(signer("vendor"), key("app-team").public_key(), Scope.of(components=[APP]),
                             exp=NOW + 3600, delegate_kid=b"app-team")
    delegated = with_delegation(envelope(["app-team"]), [[token]])
    vendor_public = key("vendor").public_key()

    workloads: dict[str, Callable[[], object]] = {
        "processor adapter, 1 signature": lambda: authenticate_envelope(single, [vendor_public]),
        "trust policy 1-of-1": lambda: authorize(single, single_policy, now=NOW),
        "trust policy 2-of-3": lambda: authorize(two, k_of_n, now=NOW),
        "1-of-1 via delegation": lambda: authorize(delegated, single_policy, now=NOW),
    }
    for fn in workloads.values():  # warm up, and prove every workload is accepted
        fn()
    samples: dict[str, list[float]] = {name: [] for name in workloads}
    for _ in range(args.rounds):
        for name, fn in workloads.items():
            samples[name].append(per_call(fn, args.per_round))
    median = {name: statistics.median(values) for name, values in samples.items()}
    base = median["trust policy 1-of-1"]
    print(f"{'workload':34} {'ms/envelope':>12} {'x 1-of-1':>9}")
    for name, value in median.items():
        print(f"{name:34} {value * 1e3:12.3f} {value / base:9.2f}")
    ratio = median["trust policy 2-of-3"] / base
    met = ratio <= TARGET
    print(f"\n2-of-3 / single-signature = {ratio:.2f} (target <= {TARGET}): {'met' if met else 'NOT met'}")
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
