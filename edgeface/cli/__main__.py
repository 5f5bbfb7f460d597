"""`python -m edgeface.cli` runs the command line (the tests call it this way)."""

from edgeface.cli import main

main()
