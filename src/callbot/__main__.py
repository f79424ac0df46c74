"""`python -m callbot` is the `callbot` command."""

from callbot.cli import main

main()
