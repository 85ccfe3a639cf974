"""`python -m bot` is the `casebot` command."""

from bot.cli import main

main(prog_name="casebot")
