"""Rule modules of newinfra's policy packs: importable without starting a policy server."""
