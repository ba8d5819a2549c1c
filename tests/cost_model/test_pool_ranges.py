"""A workload split over spot and on-demand pools keeps its node range as a whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.model import Pool, pool_ranges, to_placement
from newinfra.cost_model.request import Workload

OFFER = Offer("aws", "us-east-1", "use1-az1", "p5.48xlarge", "H100", 8, 80.0, 192.0, 2048.0, True, True, None,
              98.32, 40.0, "test", "2026-01-01")


def _workload(lo: int, hi: int) -> Workload:
    return Workload(name="train", kind="training", accelerator="H100", count=8 * hi, per_node=8,
                    nodes={"min": lo, "max": hi}, spot=True, max_spot_share=0.5)


def test_split_pools_share_the_range():
    w = _workload(4, 4)
    pools = [Pool(OFFER, "on-demand", 2), Pool(OFFER, "spot", 2)]
    assert pool_ranges(w, pools) == {"on-demand": (2, 2), "spot": (2, 2)}
    placement = to_placement(w, pools[1], pool_ranges(w, pools)["spot"])
    assert (placement.min_nodes, placement.nodes, placement.max_nodes) == (2, 2, 2)


def test_headroom_to_on_demand_floor_gives_way_on_spot_first():
    ranges = pool_ranges(_workload(2, 6), [Pool(OFFER, "on-demand", 3), Pool(OFFER, "spot", 1)])
    assert ranges == {"on-demand": (2, 5), "spot": (0, 1)}


def test_a_single_pool_keeps_the_workload_range():
    p = to_placement(_workload(0, 2), Pool(OFFER, "spot", 2))
    assert (p.min_nodes, p.nodes, p.max_nodes) == (0, 2, 2)


@given(lo=st.integers(0, 6), extra=st.integers(0, 6), od=st.integers(0, 6), spot=st.integers(0, 6))
def test_pools_together_stay_inside_the_workload_range(lo, extra, od, spot):
    hi = max(1, lo + extra)
    total = od + spot
    if not (lo <= total <= hi) or total == 0:
        return
    pools = [Pool(OFFER, m, n) for m, n in (("on-demand", od), ("spot", spot)) if n]
    ranges = pool_ranges(_workload(lo, hi), pools)
    assert sum(r[1] for r in ranges.values()) <= max(hi, len(pools))
    assert sum(r[0] for r in ranges.values()) == lo
    assert all(low <= p.nodes <= high for p in pools for low, high in [ranges[p.market]])
