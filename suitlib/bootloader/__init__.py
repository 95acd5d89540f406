"""suitlib.bootloader."""
