"""`newinfra up` / `newinfra rollback`: the deployment log (log.py), the health gate (gate.py) and the one
adapter around the Pulumi Automation API (engine.py). The command itself is newinfra/cli/up.py."""
