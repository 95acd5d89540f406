"""suitlib.cose."""
