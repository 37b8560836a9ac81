"""`python -m yte_compliance …` is the `yte` command."""

from yte_compliance.cli import main

main(prog_name="yte")
