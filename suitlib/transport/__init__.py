"""suitlib.transport."""
