"""THREAT.IMG.TOCTOU (RFC 9124 §4.2.8 calls payload replacement "a typical Time Of Check/Time Of
Use threat"): the image changes after or while it is checked, before it is used.

The digest is computed over the bytes the component holds (read back after writing), the
platform's content generation is sampled around the hash, and invoke refuses a component whose
generation moved since its image-match.
"""

from __future__ import annotations

from suitlib.errors import DigestMismatchError, PolicyError
from suitlib.processor.memory import InMemoryPlatform
from tests.processor.support import C0, INVOKE, build, device, payload, processor, validate_of

FW, EVIL = payload(200_000, 90), payload(200_000, 91)


class RacingPlatform(InMemoryPlatform):
    """Rewrites the component right after a given read (an attacker racing the verifier)."""

    after_reads: int = 10**9
    after_generation_samples: int = 10**9
    reads: int = 0
    samples: int = 0

    def read(self, component, offset, length):  # type: ignore[no-untyped-def]
        data = super().read(component, offset, length)
        self.reads += 1
        if self.reads == self.after_reads:
            self.tamper(component, EVIL)
        return data

    def generation(self, component):  # type: ignore[no-untyped-def]
        value = super().generation(component)
        self.samples += 1
        if self.samples == self.after_generation_samples:
            self.tamper(component, EVIL)
        return value


def racing(after_reads: int = 10**9, after_generation_samples: int = 10**9) -> RacingPlatform:
    base = device(contents={C0: FW})
    platform = RacingPlatform(components_map=base.components_map, fetcher_impl=base.fetcher_impl)
    platform.after_reads = after_reads
    platform.after_generation_samples = after_generation_samples
    return platform


ENV = build(validate=validate_of(FW), invoke=INVOKE)


def test_image_rewritten_while_being_hashed_fails_the_check() -> None:
    platform = racing(after_reads=1)  # the first 64 KiB were genuine, the rest is not
    result = processor(platform).invoke(ENV)
    assert isinstance(result.error, DigestMismatchError)
    assert platform.actions("invoke") == []


def test_image_rewritten_after_its_check_is_not_invoked() -> None:
    # image-match samples the generation before and after hashing: swap right after the check
    platform = racing(after_generation_samples=2)
    result = processor(platform).invoke(ENV)
    assert isinstance(result.error, PolicyError)
    assert "changed between image-match and invoke" in result.error.message
    assert platform.actions("invoke") == []


def test_untouched_image_is_invoked() -> None:
    platform = racing()
    assert processor(platform).invoke(ENV).ok
    assert platform.actions("invoke") == [("invoke", C0, None)]
