"""`python -m tagpulse` runs the command line."""

from tagpulse.cli.app import main

main()
