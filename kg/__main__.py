"""`python -m kg ...` runs the command line, like `tariffkg ...`."""

from kg.cli import main

main(prog_name="tariffkg")
