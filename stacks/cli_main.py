"""`python -m stacks.cli_main` runs the `newinfra` command without the console script."""

from stacks.cli import app

app()
