"""The exact reductions (cost_model/reduce.py) and the configuration form (milp.build(tight=True)) against the
unreduced general form: on random small coupled requests (perNode and any split, spot with and without a
share cap, node ranges, quotas that bind, budgets, region charges) both reach the same objective, and the
reduced plan mapped back is a feasible point of the unreduced program with that objective."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newinfra.cost_model import milp, model, reduce
from newinfra.cost_model.request import PlacementRequest

from tests.cost_model.test_optimality import offers, requests


def open_candidates(req: PlacementRequest, catalog):
    ctx, _, empty = model._prepare(req, catalog, (), None, frozenset(), None)
    return ([] if empty else [c for c in ctx.cands if c.fixed is None]), ctx.quota_left


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), req=requests(), budget=st.sampled_from([None, 150.0, 400.0, 1500.0, 5000.0]))
def test_reduced_configuration_form_has_the_unreduced_optimum(catalog_of, l4, data, req, budget):
    catalog = catalog_of(data.draw(offers(l4)))
    cands, quota_left = open_candidates(req, catalog)
    if not cands:
        return
    whole = milp.build(cands, quota_left, budget, served_var=False)
    red = reduce.reduce(cands)
    small = milp.build(red.cands, quota_left, budget, served_var=False, tight=True, ranks=red.ranks)
    ref, res = milp.solve(whole), milp.solve_decomposed(small)
    assert (ref.status == 0) == (res.status == 0)
    if ref.status != 0:
        return
    x = reduce.lift(whole, cands, red, small, res.x)
    assert np.all(whole.A @ x <= whole.hi + 1e-6) and np.all(whole.A @ x >= whole.lo - 1e-6)
    assert np.all(x <= whole.upper + 1e-9)
    assert math.isclose(whole.cost @ x, whole.cost @ np.round(ref.x), rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(res.fun, whole.c @ x, rel_tol=1e-9, abs_tol=1e-6)


def test_dominated_offers_and_copied_zones_are_dropped(catalog_of, l4):
    # use1-az1: on spot (no quota row there, so no units) g6.12xlarge (4 GPUs) at 0.9 per node beats g6.xlarge at
    # 1.0 for a workload that needs 2 nodes anyway; use1-az2 repeats use1-az1 exactly (same region: same quota
    # rows and charges), so it goes too. The on-demand shapes use different quota units: both stay.
    catalog = catalog_of([l4("aws", "us-east-1", z, t, p, s) for z in ("use1-az1", "use1-az2")
                          for t, p, s in (("g6.xlarge", 2.0, 1.0), ("g6.12xlarge", 3.0, 0.9))]
                         + [l4("gcp", "us-central1", "us-central1-a", "g2-standard-4", 5.0, None)])
    req = PlacementRequest.model_validate({
        "workloads": [{"name": "a", "kind": "batch", "accelerator": "L4", "count": 2, "nodes": {"min": 2, "max": 2},
                       "spot": True, "hoursPerMonth": 100}],
        "quotas": [{"cloud": "aws", "region": "us-east-1", "family": "G", "market": "on-demand", "limit": 100}],
        "allowLocalZones": False})
    (c,), _ = open_candidates(req, catalog)
    red = reduce.reduce([c])
    (r,) = red.cands
    assert (red.dropped_offers, red.dropped_zones) == (2, 1)
    offers_ = model.offer_index(catalog).offers
    kept = {(offers_[int(o)].zone, offers_[int(o)].instance_type, int(m)) for o, m in zip(r.offer, r.market,
                                                                                        strict=True)}
    assert kept == {("use1-az1", "g6.xlarge", 0), ("use1-az1", "g6.12xlarge", 0), ("use1-az1", "g6.12xlarge", 1),
                    ("us-central1-a", "g2-standard-4", 0)}
