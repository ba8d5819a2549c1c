"""A solve that reaches HiGHS's time limit is no verdict: `SolverLimit` (exit 6), never "infeasible" (exit 3)."""

from __future__ import annotations

import pytest
from newinfra.cost_model import milp, model
from newinfra.cost_model.catalog.loader import load_catalog

from benchmarks.cost_model_bench import coupled


def test_a_time_limit_is_reported_as_such_not_as_infeasible(monkeypatch):
    catalog = load_catalog()
    request = coupled(catalog, 300, seed=7)  # binding quotas: several seconds to prove optimal
    monkeypatch.setitem(milp.MILP_OPTIONS, "time_limit", 0.02)
    with pytest.raises(model.SolverLimit, match=r"reached its 0.02 s time limit .*no verdict on the request"):
        model.solve(request, catalog)
