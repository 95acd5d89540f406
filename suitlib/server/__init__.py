"""suitlib.server."""
