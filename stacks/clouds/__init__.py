"""Per-cloud builders: each turns one (cloud, region) of the plan into components."""
