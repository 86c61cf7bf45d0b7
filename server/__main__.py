"""`python -m server` runs the ilo-kg command line."""

from server.cli import main

main()
