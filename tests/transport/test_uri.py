"""CoAP URI parsing for the fetcher (RFC 7252 §6.4): values or typed errors, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.transport.coap.client import CoapUri
from suitlib.transport.errors import TransferFailedError


def test_parse_examples() -> None:
    u = CoapUri.parse("coap://[::1]:5700/suit/payload/ab%20c?dev=m1&x")
    assert (u.host, u.port, u.path, u.query) == ("::1", 5700, ("suit", "payload", "ab c"), ("dev=m1", "x"))
    assert CoapUri.parse("coap://example.net/a").port == 5683


@pytest.mark.parametrize("bad", ["http://h/x", "coap:///x", "coap://[::1/x", "coap://h:99999/x", "coap://h:port/x"])
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(TransferFailedError):
        CoapUri.parse(bad)


@given(st.text(max_size=60))
def test_parse_any_text_is_a_uri_or_a_typed_error(text: str) -> None:
    for candidate in (text, "coap://" + text):
        try:
            CoapUri.parse(candidate)
        except TransferFailedError:
            pass
