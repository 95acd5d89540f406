"""suitlib.cli."""
