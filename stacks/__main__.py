"""Entry point the Pulumi language host runs (Pulumi.yaml: main: stacks/)."""

from stacks.program import main

main()
