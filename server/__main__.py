"""`python -m server` runs the ilo-kg command line."""

from server.cli import main

# Guarded: spawned query workers import this module as __mp_main__ and must not run the CLI.
if __name__ == "__main__":
    main()
