"""Accelerator names: every spelling users type lands on one canonical name; unknown names list the valid."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from newinfra.cost_model.catalog import StaleCatalogWarning, UnknownAccelerator, load_catalog
from newinfra.cost_model.catalog.names import alias_key

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StaleCatalogWarning)
    CAT = load_catalog()
ALIASES = sorted(CAT.aliases.items())


@pytest.mark.parametrize(("typed", "expected"), [
    ("h100", "H100"), ("H100", "H100"), ("nvidia-h100-80gb", "H100"), ("nvidia-h100-mega-80gb", "H100"),
    ("a100", "A100"), ("nvidia-tesla-a100", "A100"), ("A100-80GB", "A100-80GB"), ("a100_80gb", "A100-80GB"),
    ("nvidia-tesla-t4", "T4"), ("Tesla T4", "T4"), ("l40s", "L40S"), ("v5e", "tpu-v5litepod"),
    ("tpu-v5-lite-podslice", "tpu-v5litepod"), ("trillium", "tpu-v6e"), ("TPU v5p", "tpu-v5p"),
    ("trn1", "Trainium"), ("rtx pro 6000", "RTXPRO6000S"), ("Radeon Pro V520", "Radeon Pro V520"),
])
def test_known_spellings(typed, expected):
    assert CAT.normalise_accelerator(typed) == expected


def test_every_alias_targets_an_offered_accelerator():
    assert {target for _, target in ALIASES} == set(CAT.accelerators)


@pytest.mark.parametrize("bad", ["h1000", "", "nvidia", "a100-160gb", "tpu-v9"])
def test_unknown_names_list_the_valid_ones(bad):
    with pytest.raises(UnknownAccelerator) as err:
        CAT.normalise_accelerator(bad)
    assert isinstance(err.value, ValueError)
    assert f"unknown accelerator {bad!r}; valid: " in str(err.value)
    assert all(name in str(err.value) for name in CAT.accelerators)


def _respell(alias: str, data) -> str:
    """Same name as a user might type it: any case, any separator, maybe the vendor in front."""
    parts = [p for p in alias.replace("_", "-").replace(" ", "-").split("-") if p]
    sep = data.draw(st.sampled_from(["-", "_", " ", "", "."]))
    text = sep.join("".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in p) for p in parts)
    vendor = data.draw(st.sampled_from(["", "nvidia-", "NVIDIA ", "Nvidia_"]))
    return (vendor if not alias_key(alias).startswith(("tpu", "v")) else "") + text


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALIASES), st.data())
def test_any_spelling_of_an_alias_normalises_the_same(pair, data):
    alias, target = pair
    assert CAT.normalise_accelerator(_respell(alias, data)) == target
