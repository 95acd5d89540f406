"""suitlib.processor."""
