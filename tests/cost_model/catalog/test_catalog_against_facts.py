"""Every catalog offer against the hardware facts and the planners: the cost model never places what the
components refuse (the tpu-v3-8 bug: `solve` placed it, the TPU planner refused it)."""

from __future__ import annotations

import warnings

import pytest
from newinfra.components.aws.cluster import ami_type
from newinfra.components.planning.alicloud import check_gpu_instance_type
from newinfra.components.planning.gcp import gcp_accelerator_type
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.planning.tpu import plan_gke_tpu_slice, plan_tpu_slice
from newinfra.components.planning.vm_pool import aws_image, host_facts, vm_pool_spec
from newinfra.cost_model.candidates import OfferIndex
from newinfra.cost_model.catalog import load_catalog

from newinfra import facts
from newinfra.errors import ComponentInputError
from newinfra.placement import Placement

REFUSALS = (ComponentInputError,)


@pytest.fixture(scope="module")
def catalog():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # staleness is the loader tests' concern
        return load_catalog()


def _distinct(catalog):
    """One offer per (cloud, family, instance type, accelerator, per node, topology): what the planners see."""
    seen = {}
    for o in catalog.offers:
        seen.setdefault((o.cloud, o.family, o.instance_type, o.accelerator, o.accelerators_per_node,
                         o.tpu_topology), o)
    return [seen[k] for k in sorted(seen, key=lambda k: tuple(str(x) for x in k))]


def _plan(offer, mode: str) -> None:
    """Run the pure planners a placement of this offer goes through when it runs on `mode`; raise on refusal."""
    placement = Placement(workload="w", cloud=offer.cloud, region=offer.region, zones=(offer.zone or "z",),
                          instance_type=offer.instance_type, accelerator=offer.accelerator,
                          accelerators_per_node=offer.accelerators_per_node, nodes=2, min_nodes=0, max_nodes=2,
                          runs_on=mode, tpu_topology=offer.tpu_topology)
    is_tpu = offer.accelerator.startswith("tpu-")
    if mode == "kubernetes":
        pool = plan_node_pool(placement, kind="training", profile="development")
        if offer.cloud == "aws":
            ami_type(pool["instance_type"], "al2023")
        elif offer.cloud == "gcp":
            plan_gke_tpu_slice(pool["instance_type"], pool.get("tpu_topology")) if is_tpu else \
                gcp_accelerator_type(pool["accelerator"], pool["instance_type"])
        else:
            check_gpu_instance_type(pool["instance_type"], pool["accelerator"])
        return
    if is_tpu:
        plan_tpu_slice(offer.instance_type, offer.tpu_topology)
        return
    spec = vm_pool_spec(placement, kind="training", profile="development")
    host_facts(offer.cloud, spec["instance_type"], spec["accelerator"], spec["accelerators_per_node"])
    if offer.cloud == "aws":
        aws_image(spec["instance_type"])
    elif offer.cloud == "gcp":
        gcp_accelerator_type(spec["accelerator"], spec["instance_type"])


def test_every_offer_family_is_known_and_carries_its_accelerator(catalog):
    unknown, mismatched = [], []
    for o in catalog.offers:
        entry = facts.family_facts(o.cloud, o.family)
        if entry is None:
            unknown.append(f"{o.cloud}/{o.instance_type}")
        elif entry.accelerator is not None and entry.accelerator != o.accelerator:
            mismatched.append(f"{o.cloud}/{o.instance_type}: {o.accelerator} vs {entry.accelerator}")
        if entry is not None and o.cloud == "aws":
            assert o.efa == (facts.efa_interfaces("aws", o.instance_type) > 0), o.instance_type
    assert unknown == [] and mismatched == []


def test_the_planners_take_every_offer_where_the_facts_say_it_runs(catalog):
    """For each distinct offer and each of kubernetes / vm: the planners accept it exactly where
    facts.runs_on says it runs, and refuse it elsewhere (so the cost model must not place it there)."""
    wrong = []
    for offer in _distinct(catalog):
        modes = facts.runs_on(offer.cloud, offer.instance_type)
        for mode in facts.RUNS_ON:
            try:
                _plan(offer, mode)
                accepted = True
            except REFUSALS:
                accepted = False
            if accepted != (mode in modes):
                wrong.append(f"{offer.cloud}/{offer.instance_type} ({offer.accelerator}) on {mode}: "
                             f"planners {'accept' if accepted else 'refuse'}, facts say {modes}")
    assert wrong == []


def test_the_cost_model_offers_a_workload_only_what_runs_where_it_asks(catalog):
    ix = OfferIndex(catalog)
    for i, offer in enumerate(ix.offers):
        for mode in facts.RUNS_ON:
            assert bool(ix.runs_on[mode][i]) == (mode in facts.runs_on(offer.cloud, offer.instance_type))
    tpu_v3 = [i for i, o in enumerate(ix.offers) if o.instance_type == "v3-8"]
    tpu_v2 = [i for i, o in enumerate(ix.offers) if o.instance_type == "v2-8"]
    assert tpu_v3 and all(ix.runs_on["kubernetes"][i] and ix.runs_on["vm"][i] for i in tpu_v3)
    assert tpu_v2 and all(ix.runs_on["vm"][i] and not ix.runs_on["kubernetes"][i] for i in tpu_v2)


@pytest.mark.parametrize(("accelerator", "runs_on"), [("tpu-v3-8", "vm"), ("tpu-v3-8", "kubernetes"),
                                                      ("tpu-v2-8", "vm")])
def test_regression_what_solve_places_the_planners_take(catalog, accelerator, runs_on):
    """Bug: `solve` placed tpu-v3-8 and plan_tpu_slice refused v3-8 (place succeeded, plan failed)."""
    from newinfra.cost_model.model import solve
    from newinfra.cost_model.request import PlacementRequest, Workload

    workload = Workload(name="w", kind="training", accelerator=accelerator, count=4, runsOn=runs_on)
    request = PlacementRequest(allowedClouds=("gcp",), workloads=(workload,))
    placements = list(solve(request, catalog).plan("w").placements)
    assert placements and all(p.instance_type == accelerator.removeprefix("tpu-") for p in placements)
    for p in placements:
        (plan_gke_tpu_slice if runs_on == "kubernetes" else plan_tpu_slice)(p.instance_type, p.tpu_topology)


def test_a_kubernetes_workload_never_lands_on_tpu_v2(catalog):
    from newinfra.cost_model.model import Infeasible, solve
    from newinfra.cost_model.request import PlacementRequest, Workload

    workload = Workload(name="w", kind="training", accelerator="tpu-v2-8", count=4, runsOn="kubernetes")
    with pytest.raises(Infeasible):
        solve(PlacementRequest(allowedClouds=("gcp",), workloads=(workload,)), catalog, diagnose=False)
