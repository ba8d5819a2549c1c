"""The decomposed solve (independent groups, budget checked afterwards) against the monolithic MILP: on random
small coupled requests (shared quotas, spot caps, budgets, region charges) both reach the same objective, and
requests that share no limit split into one group per workload."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newinfra.cost_model import milp, model
from newinfra.cost_model.request import PlacementRequest

from tests.cost_model.test_optimality import offers, requests


def programs(req: PlacementRequest, catalog) -> list[milp.Program]:
    ctx, _, empty = model._prepare(req, catalog, (), None, frozenset(), None)
    open_ = [c for c in ctx.cands if c.fixed is None]
    if empty or not open_:
        return []
    budget = req.monthly_budget_usd
    return [milp.build(open_, ctx.quota_left, budget, served_var=False)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), req=requests(), budget=st.sampled_from([None, 150.0, 400.0, 1500.0, 5000.0]))
def test_decomposed_objective_equals_monolithic(catalog_of, l4, data, req, budget):
    req = req.model_copy(update={"monthly_budget_usd": budget})
    catalog = catalog_of(data.draw(offers(l4)))
    for prog in programs(req, catalog):
        whole = milp.solve(prog)
        parts = milp.solve_decomposed(prog)
        assert (whole.status == 0) == (parts.status == 0)
        if whole.status == 0:
            assert math.isclose(parts.fun, whole.fun, rel_tol=1e-7, abs_tol=1e-4)
            x = np.round(parts.x)
            assert np.all(prog.A @ x <= prog.hi + 1e-6) and np.all(prog.A @ x >= prog.lo - 1e-6)
            assert parts.stats.mip_gap <= 1e-6


def test_workloads_sharing_no_limit_are_solved_apart_and_the_budget_falls_back_to_the_coupled_model(
        catalog_of, l4):
    catalog = catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.0, None),
                          l4("gcp", "us-central1", "us-central1-a", "g2-standard-4", 0.9, None),
                          l4("aws", "eu-west-1", "euw1-az1", "g6.xlarge", 1.5, None)])
    w = {"kind": "batch", "accelerator": "L4", "count": 1, "perNode": 1, "hoursPerMonth": 100}
    base = {"workloads": [{**w, "name": "a"}, {**w, "name": "b"}, {**w, "name": "c"}],
            "allowLocalZones": False}
    # a quota only one node fits: it can bind, so the three share one group; without it, three groups
    tight = {**base, "quotas": [{"cloud": "gcp", "region": "us-central1", "family": "L4", "limit": 1},
                                {"cloud": "aws", "region": "us-east-1", "family": "G", "limit": 2}]}
    loose = {**base, "quotas": [{"cloud": "gcp", "region": "us-central1", "family": "L4", "limit": 1000}]}
    for spec, expect in ((tight, 1), (loose, 3)):
        (prog,) = programs(PlacementRequest.model_validate(spec), catalog)
        assert milp.groups(prog)[0] == expect
    # a budget below the groups' optimum: the coupled model decides (infeasible here, as the monolithic one)
    (prog,) = programs(PlacementRequest.model_validate({**tight, "monthlyBudgetUsd": 10.0}), catalog)
    res = milp.solve_decomposed(prog)
    assert res.stats.coupled and res.status != 0 and milp.solve(prog).status != 0
