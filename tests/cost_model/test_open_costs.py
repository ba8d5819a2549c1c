"""What a region costs to open (control plane, NAT per the profile) weighs in the placement: two workloads
share one region when a second region's charges outweigh its GPU saving, and split when the saving is larger."""

from __future__ import annotations

import math

import pytest
from newinfra.cost_model.explain import regions_opened
from newinfra.cost_model.model import solve
from newinfra.cost_model.request import PlacementRequest

HOURS = 730.0
# By hand from cost_model/pricebook/data/services.csv: EKS cluster fee $0.10/h, NAT gateway $0.045/h, the
# NAT's Elastic IP (public IPv4) $0.005/h, every region of the test priced as us-east-1.
REGION_USD = round(HOURS * (0.10 + 0.045 + 0.005), 2)  # 109.50


def _request(profile: str | None = "development") -> PlacementRequest:
    # "a" must stay in us-east-1 (its dataset's residency); "b" may go anywhere.
    req = {"workloads": [{"name": "a", "kind": "inference", "accelerator": "L4", "count": 1, "dataset": "d"},
                         {"name": "b", "kind": "inference", "accelerator": "L4", "count": 1}],
           "datasets": [{"name": "d", "sizeGb": 10, "classification": "us", "homeCloud": "aws",
                         "homeRegion": "us-east-1"}],
           "dataResidency": {"us": ["us-east-1"]}, "allowedClouds": ["aws"]}
    if profile:
        req["profile"] = profile
    return PlacementRequest.model_validate(req)


def _catalog(catalog_of, l4, east2_usd: float):
    return catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.00, None),
                       l4("aws", "us-east-2", "use2-az1", "g6.xlarge", east2_usd, None)])


def _regions(sol) -> dict[str, str]:
    return {p.workload: p.placements[0].region for p in sol.plans}


def test_equal_gpu_prices_share_one_region(catalog_of, l4):
    sol = solve(_request(), _catalog(catalog_of, l4, 1.00))
    assert _regions(sol) == {"a": "us-east-1", "b": "us-east-1"}
    assert sol.open_usd == REGION_USD
    assert math.isclose(sol.monthly_usd, 2 * HOURS * 1.00 + REGION_USD, abs_tol=0.01)
    assert regions_opened(sol)[0].startswith(f"  aws/us-east-1 opened: ${REGION_USD:,.2f}/month control plane + NAT")


@pytest.mark.parametrize(("east2_usd", "split"), [
    (1.00 - 0.10, False),  # saves $73/month on b: less than us-east-2's $109.50 of charges
    (1.00 - 0.16, True),   # saves $116.80/month: more than the charges
])
def test_split_only_when_the_gpu_saving_beats_the_region_charges(catalog_of, l4, east2_usd, split):
    sol = solve(_request(), _catalog(catalog_of, l4, east2_usd))
    assert _regions(sol) == {"a": "us-east-1", "b": "us-east-2" if split else "us-east-1"}
    b = HOURS * (east2_usd if split else 1.00)
    assert math.isclose(sol.monthly_usd, HOURS * 1.00 + b + REGION_USD * (2 if split else 1), abs_tol=0.01)


def test_without_a_profile_regions_cost_nothing_and_the_cheaper_gpu_wins(catalog_of, l4):
    sol = solve(_request(None), _catalog(catalog_of, l4, 0.90))
    assert _regions(sol) == {"a": "us-east-1", "b": "us-east-2"}
    assert sol.opened == () and sol.open_usd == 0.0


@pytest.mark.parametrize(("profile", "az2_usd", "split"), [
    ("production", 0.96, False),  # b saves $29.20 in az2; a second NAT + IP there costs $36.50
    ("production", 0.94, True),   # saves $43.80: worth the second NAT
    ("development", 0.96, True),  # one NAT for the VPC: the zone costs nothing to open
])
def test_production_pays_a_nat_per_zone(catalog_of, l4, profile, az2_usd, split):
    # "a" needs a 4-GPU node, offered in use1-az1 only; "b" one GPU, in either zone
    cat = catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.12xlarge", 4.00, None),
                      l4("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.00, None),
                      l4("aws", "us-east-1", "use1-az2", "g6.xlarge", az2_usd, None)])
    req = PlacementRequest.model_validate({
        "workloads": [{"name": "a", "kind": "training", "accelerator": "L4", "count": 4, "perNode": 4},
                      # batch: a production inference workload would be spread over zones (test_spread.py)
                      {"name": "b", "kind": "batch", "accelerator": "L4", "count": 1, "perNode": 1}],
        "allowedClouds": ["aws"], "profile": profile})
    sol = solve(req, cat)
    zones = {p.workload: p.placements[0].zones[0] for p in sol.plans}
    assert zones == {"a": "use1-az1", "b": "use1-az2" if split else "use1-az1"}
    nats = 2 if split and profile == "production" else 1
    assert sol.open_usd == round(HOURS * (0.10 + nats * (0.045 + 0.005)), 2)
