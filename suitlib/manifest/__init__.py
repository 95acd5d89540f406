"""suitlib.manifest."""
