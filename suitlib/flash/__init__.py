"""suitlib.flash."""
