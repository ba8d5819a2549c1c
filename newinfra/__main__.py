"""`python -m newinfra` runs the `newinfra` command without the console script."""

from newinfra.cli.app import main

main()
