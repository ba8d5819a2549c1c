"""Shared test setup: the catalog's staleness warning is expected here (reference prices are old)."""

import warnings

import pytest


@pytest.fixture(autouse=True)
def _quiet_stale_catalog():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*price catalog .* days old.*")
        yield
