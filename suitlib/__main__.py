"""`python -m suitlib` is the `suit` command."""

from suitlib.cli.main import main

main()
