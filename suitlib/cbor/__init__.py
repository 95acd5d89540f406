"""suitlib.cbor."""
