"""Shared test setup.

- The catalog's staleness warning is expected here (the reference prices are old).
- Hypothesis: no per-example deadline (a 2-core CI machine under load would turn slow solves into flaky
  failures); in CI the examples are derandomized so a run is repeatable.
"""

import os
import warnings

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("newinfra", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          derandomize=bool(os.environ.get("CI")))
settings.load_profile("newinfra")


@pytest.fixture(autouse=True)
def _quiet_stale_catalog():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*price catalog .* days old.*")
        yield
