"""`accelerator: tpu-v5litepod-8` (GCP's slice name) asks for slices of that size."""

from __future__ import annotations

import pytest
from newinfra.cost_model.catalog import load_catalog
from newinfra.cost_model.request import Workload, tpu_slice_chips
from pydantic import ValidationError


@pytest.mark.parametrize("name, chips", [("tpu-v5litepod-8", 8), ("tpu-v5p-16", 8), ("tpu-v6e-4", 4),
                                         ("tpu-v4-32", 16), ("H100", None), ("tpu-v5litepod", None)])
def test_slice_names_count_chips_as_gcp_does(name, chips):
    assert tpu_slice_chips(name) == chips


def test_the_slice_name_sets_per_node_and_normalises_to_its_generation():
    w = Workload(name="eval", kind="batch", accelerator="tpu-v5litepod-8", count=16)
    assert w.per_node == 8
    assert load_catalog().normalise_accelerator(w.accelerator) == "tpu-v5litepod"


def test_a_contradicting_per_node_names_the_slice():
    with pytest.raises(ValidationError, match=r"perNode \(4\) contradicts accelerator 'tpu-v5litepod-8'"):
        Workload(name="eval", kind="batch", accelerator="tpu-v5litepod-8", count=16, perNode=4)
