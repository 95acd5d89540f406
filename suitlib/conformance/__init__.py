"""suitlib.conformance."""
