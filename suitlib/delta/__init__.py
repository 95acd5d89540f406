"""suitlib.delta."""
