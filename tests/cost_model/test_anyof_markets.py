"""Any-of accelerators (cost per unit of work) and spot's interruption penalty: the arithmetic of a variant,
what the solver picks, what the lock says (choice, next accelerator, figures a review recomputes), bad input."""

from __future__ import annotations

import math

import pytest
import yaml
from newinfra.cost_model.__main__ import main
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.explain import alternatives
from newinfra.cost_model.lock import lock_document, review_lock
from newinfra.cost_model.markets import spot_overhead
from newinfra.cost_model.model import solve
from newinfra.cost_model.request import PlacementRequest, Workload


def l40s(zone: str, itype: str, od: float, spot: float | None) -> Offer:
    apn, vcpus = {"g6e.xlarge": (1, 4), "g6e.12xlarge": (4, 48)}[itype]
    return Offer("aws", "us-east-1", zone, itype, "L40S", apn, 44.7, float(vcpus), 8.0 * vcpus, False, False, None,
                 od, spot, "aws", "2025-06-01")


@pytest.fixture
def mixed(catalog_of, l4):
    """L4 at $1.00/h (spot $0.40) and L40S at $1.80/h (spot $0.70), one AWS zone."""
    return catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.xlarge", 1.00, 0.40),
                       l4("aws", "us-east-1", "use1-az1", "g6.12xlarge", 4.00, 1.60),
                       l40s("use1-az1", "g6e.xlarge", 1.80, 0.70), l40s("use1-az1", "g6e.12xlarge", 7.20, 2.80)])


def workload(**kw) -> Workload:
    return Workload.model_validate({"name": "w", "kind": "training", "count": 4, **kw})


@pytest.mark.parametrize(("kw", "speed", "count", "hours"), [
    ({"hoursPerMonth": 200}, 0.5, 4, 400.0),  # training: hours / speed
    ({"hoursPerMonth": 500}, 0.5, 6, 744.0),  # 1000 h do not fit a month: 744 h and ceil(4 x 1000 / 744) = 6
    ({"hoursPerMonth": 500, "perNode": 4}, 0.5, 8, 744.0),  # ... in whole nodes of 4
    ({"hoursPerMonth": 300, "kind": "inference"}, 0.35, 12, 300.0),  # serving: ceil(4 / 0.35) replicas
    ({"hoursPerMonth": 300, "kind": "inference"}, 2.0, 2, 300.0),
])
def test_variant_scales_hours_or_count(kw, speed, count, hours):
    v = workload(accelerators={"L4": 1.0, "L40S": speed}, **kw).variant("L40S", speed)
    assert (v.count, v.hours_per_month, v.accelerator, v.accelerators) == (count, hours, "L40S", None)


def test_the_cheaper_unit_of_work_wins_and_the_lock_says_why(mixed):
    # L40S 2.5x as fast: 4 x 1.80 x 40 h = $288 beats L4's 4 x 1.00 x 100 h = $400
    req = PlacementRequest.model_validate({"workloads": [
        {"name": "w", "kind": "batch", "count": 4, "hoursPerMonth": 100, "accelerators": {"L4": 1.0, "L40S": 2.5}}]})
    sol = solve(req, mixed)
    plan = sol.plan("w")
    assert {p.accelerator for p in plan.placements} == {"L40S"}
    assert math.isclose(plan.monthly_usd, 288.0)
    doc = lock_document(req, mixed, sol, (), alternatives(req, mixed, sol))
    entry = doc["workloads"]["w"]
    assert entry["anyOf"] == {"chosen": "L40S", "speed": 2.5, "count": 4, "hoursPerMonth": 40.0, "capped": False,
                              "accepted": {"L4": 1.0, "L40S": 2.5}}
    next_l4 = [a for a in entry["alternatives"] if a["accelerator"] == "L4"]
    assert next_l4 and next_l4[0]["monthlyUsd"] == 400.0 and next_l4[0]["deltaUsdPerMonth"] == 112.0
    review = review_lock(req, doc, mixed)
    assert review.problems == [] and review.monthly_usd["w"] == 288.0


def test_a_slower_card_wins_when_it_is_cheaper_per_unit_of_work(mixed):
    req = PlacementRequest.model_validate({"workloads": [
        {"name": "w", "kind": "inference", "count": 3, "accelerators": {"L4": 0.5, "L40S": 1.0}}]})
    plan = solve(req, mixed).plan("w")
    # L4: ceil(3 / 0.5) = 6 replicas, $6.00/h at best; L40S: 3 x $1.80 = $5.40/h
    assert {p.accelerator for p in plan.placements} == {"L40S"}
    assert math.isclose(plan.hourly_usd, 5.4)
    req2 = req.model_copy(update={"workloads": (req.workloads[0].model_copy(
        update={"accelerators": {"L4": 0.6, "L40S": 1.0}}),)})
    plan2 = solve(req2, mixed).plan("w")  # ceil(3 / 0.6) = 5 L4: $5.00/h < $5.40/h
    assert {p.accelerator for p in plan2.placements} == {"L4"} and math.isclose(plan2.hourly_usd, 5.0)


def test_spot_penalty_prices_restarts_and_can_turn_the_choice(mixed):
    base = {"workloads": [{"name": "w", "kind": "batch", "accelerator": "L4", "count": 1, "spot": True,
                           "hoursPerMonth": 100}]}
    plain = solve(PlacementRequest.model_validate(base), mixed).plan("w")
    assert plain.placements[0].market == "spot" and math.isclose(plain.monthly_usd, 40.0)
    # 2 interruptions a day x 6 h each: spot hours x (1 + 2 / 24 x 6) = x 1.5 -> $60, still under on-demand $100
    mild = PlacementRequest.model_validate({**base, "markets": {"spot": {"interruptionsPerDay": {"g6": 2},
                                                                          "restartHours": 6}}})
    assert spot_overhead(mild, "aws", "g6.xlarge") == 1.5
    sol = solve(mild, mixed)
    assert sol.plan("w").placements[0].market == "spot" and math.isclose(sol.plan("w").monthly_usd, 60.0)
    assert sol.plan("w").placements[0].node_hourly_usd == 0.40  # the market's own price stays in the lock
    doc = lock_document(mild, mixed, sol, ())
    assert review_lock(mild, doc, mixed).problems == []
    # 8 a day: x 3 = $120 > on-demand $100: on-demand wins
    harsh = PlacementRequest.model_validate({**base, "markets": {"spot": {"interruptionsPerDay": {"*": 8},
                                                                           "restartHours": 6}}})
    assert solve(harsh, mixed).plan("w").placements[0].market == "on-demand"


@pytest.mark.parametrize(("accelerators", "key", "says"), [
    ({"L4": 1.0, "H101": 0.5}, "workloads[0].accelerators.H101", "unknown accelerator 'H101'"),
    ({"L4": 0}, "workloads[0].accelerators.L4", "relative speed 0 is not valid"),
    ({"L4": -0.5}, "workloads[0].accelerators.L4", "relative speed -0.5 is not valid"),
    ({}, "workloads[0].accelerators", "an empty set accepts no accelerator"),
])
def test_bad_any_of_sets_exit_2_naming_the_key(tmp_path, capsys, accelerators, key, says):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"workloads": [{"name": "t", "kind": "training", "count": 8,
                                                   "accelerators": accelerators}]}))
    assert main(["solve", str(path)]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("warning:")]
    assert len(err) == 1 and key in err[0] and says in err[0] and "valid" in err[0]


def test_accelerator_and_accelerators_are_exclusive(tmp_path, capsys):
    for w in ({"accelerator": "L4", "accelerators": {"L4": 1}}, {}):
        path = tmp_path / "r.yaml"
        path.write_text(yaml.safe_dump({"workloads": [{"name": "t", "kind": "training", "count": 8, **w}]}))
        assert main(["solve", str(path)]) == 2
        assert "give exactly one of accelerator" in capsys.readouterr().err


def test_a_bad_interruption_rate_exits_2(tmp_path, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"workloads": [{"name": "t", "kind": "training", "count": 8, "accelerator": "L4"}],
                                    "markets": {"spot": {"interruptionsPerDay": {"g6": 30}, "restartHours": 1}}}))
    assert main(["solve", str(path)]) == 2
    assert "markets.spot.interruptionsPerDay" in capsys.readouterr().err


@pytest.fixture
def l4_two_clouds(catalog_of, l4):
    return catalog_of([l4("aws", "us-east-1", "use1-az1", "g6.12xlarge", 4.0, None),
                       l4("aws", "us-east-1", "use1-az2", "g6.12xlarge", 4.4, None),
                       l4("gcp", "us-central1", "us-central1-a", "g2-standard-4", 1.0, None)])


def batch(name: str, **kw) -> dict:
    return {"name": name, "kind": "batch", "accelerator": "L4", "count": 4, "hoursPerMonth": 100, **kw}


def test_a_reservation_is_free_up_to_its_size_and_shared(l4_two_clouds):
    req = PlacementRequest.model_validate({
        "workloads": [batch("a"), batch("b")],
        "reservations": [{"cloud": "aws", "region": "us-east-1", "zone": "use1-az2", "instanceType": "g6.12xlarge",
                          "count": 1}]})
    sol = solve(req, l4_two_clouds)
    markets = sorted(p.market for plan in sol.plans for p in plan.placements)
    assert markets == ["on-demand", "reserved"]  # one node reserved: one workload free, the other pays $400
    assert math.isclose(sol.workloads_usd, 400.0)
    doc = lock_document(req, l4_two_clouds, sol, ())
    assert doc["reservations"]["committedUsdPerMonth"] == round(4.4 * 730, 2)  # counted once, whether used or not
    assert review_lock(req, doc, l4_two_clouds).problems == []
    # a hand edit that puts both workloads on the one reserved node is named
    other = next(n for n, e in doc["workloads"].items() if e["placements"][0]["market"] == "on-demand")
    edited = {**doc, "workloads": {**doc["workloads"], other: {**doc["workloads"][other], "placements": [
        {**doc["workloads"][other]["placements"][0], "market": "reserved", "zones": ["use1-az2"],
         "nodeHourlyUsd": 0.0}]}}}
    assert any("reservations[0]: the locked pools use 2 nodes" in p for p in review_lock(req, edited, l4_two_clouds).problems)


def test_a_capacity_block_is_paid_for_its_duration_and_only_fits_shorter_runs(l4_two_clouds):
    block = {"region": "us-east-1", "instanceType": "g6.12xlarge", "count": 1, "hourlyPriceUsd": 1.0,
             "durationHours": 150, "start": "2026-12-07T11:30:00Z"}
    req = PlacementRequest.model_validate({"workloads": [batch("a")], "capacityBlocks": [block]})
    sol = solve(req, l4_two_clouds)
    p = sol.plan("a").placements[0]
    assert (p.market, p.node_hourly_usd) == ("capacity-block", 1.0)
    assert math.isclose(sol.plan("a").monthly_usd, 150.0)  # 150 h x $1, not 100 h: the block is paid whole
    assert review_lock(req, lock_document(req, l4_two_clouds, sol, ()), l4_two_clouds).problems == []
    longer = PlacementRequest.model_validate({"workloads": [batch("a", hoursPerMonth=200)], "capacityBlocks": [block]})
    assert solve(longer, l4_two_clouds).plan("a").placements[0].market == "on-demand"


def test_a_capacity_block_that_starts_after_start_by_is_not_used(l4_two_clouds):
    # A date, not a wait: the same config gives the same plan whenever it is placed.
    block = {"region": "us-east-1", "instanceType": "g6.12xlarge", "count": 1, "hourlyPriceUsd": 1.0,
             "durationHours": 150, "start": "2026-12-07T11:30:00Z"}

    def market(start_by):
        w = batch("a", **({"startBy": start_by} if start_by else {}))
        req = PlacementRequest.model_validate({"workloads": [w], "capacityBlocks": [block]})
        return req, solve(req, l4_two_clouds)

    assert market(None)[1].plan("a").placements[0].market == "capacity-block"
    assert market("2026-12-07T12:00:00+00:00")[1].plan("a").placements[0].market == "capacity-block"
    late_req, late = market("2026-12-07T11:00:00Z")
    assert late.plan("a").placements[0].market == "on-demand"
    # a lock that puts the workload on the block anyway is refused by the review, naming both times
    early_req, early = market(None)
    doc = lock_document(early_req, l4_two_clouds, early, ())
    problems = review_lock(late_req, doc, l4_two_clouds).problems
    assert any("starts 2026-12-07T11:30:00Z, after the workload's startBy 2026-12-07T11:00:00Z" in p for p in problems)


@pytest.mark.parametrize(("where", "value", "key"), [
    ("capacityBlocks", {"start": "next Monday"}, "start"),
    ("workloads", {"startBy": "2026-12-07T11:00:00"}, "startBy"),  # no zone: which 11:00?
])
def test_a_time_that_is_not_iso_8601_with_a_zone_is_refused(where, value, key):
    block = {"region": "us-east-1", "instanceType": "g6.12xlarge", "count": 1, "hourlyPriceUsd": 1.0,
             "durationHours": 150, "start": "2026-12-07T11:30:00Z"}
    data = {"workloads": [batch("a")], "capacityBlocks": [block]}
    if where == "capacityBlocks":
        data["capacityBlocks"] = [{**block, **value}]
    else:
        data["workloads"] = [batch("a", **value)]
    with pytest.raises(ValueError, match=rf"{key}: .* is not an ISO 8601 time with a zone"):
        PlacementRequest.model_validate(data)


def test_flex_start_needs_a_price_a_short_run_and_a_workload_that_can_wait(l4_two_clouds):
    markets = {"flexStart": {"priceFactor": 0.5, "maxRunHours": 168, "startDelayHours": 6}}
    pick = {}
    for label, w in (("plain", batch("a")), ("long", batch("a", hoursPerMonth=200)),
                     ("impatient", batch("a", maxStartDelayHours=2)), ("patient", batch("a", maxStartDelayHours=12))):
        req = PlacementRequest.model_validate({"workloads": [w], "markets": markets})
        pick[label] = solve(req, l4_two_clouds).plan("a").placements[0].market
    assert pick == {"plain": "flex-start", "long": "on-demand", "impatient": "on-demand", "patient": "flex-start"}
    no_price = PlacementRequest.model_validate({"workloads": [batch("a")]})
    assert solve(no_price, l4_two_clouds).plan("a").placements[0].market == "on-demand"


def test_a_capacity_block_without_a_duration_exits_2(tmp_path, capsys):
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"workloads": [batch("a")], "capacityBlocks": [
        {"region": "us-east-1", "instanceType": "p5.48xlarge", "count": 2, "hourlyPriceUsd": 31.5,
         "start": "2026-12-07T11:30:00Z"}]}))
    assert main(["solve", str(path)]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("warning:")]
    assert len(err) == 1 and "capacityBlocks[0].durationHours" in err[0]


def test_the_failover_order_is_where_excluding_the_choice_goes(l4_two_clouds):
    from newinfra.cost_model.exclusions import Exclusion
    from newinfra.cost_model.explain import failover

    req = PlacementRequest.model_validate({"workloads": [batch("a")]})
    sol = solve(req, l4_two_clouds)
    order = failover(req, l4_two_clouds, sol)["a"]
    chosen = sol.plan("a").placements[0]
    here = f"{chosen.cloud}/{chosen.region}/{chosen.zones[0]}:{chosen.instance_type}"
    # $400 in use1-az1 and us-central1-a alike (a tie the solver breaks in catalog order), then $440 in use1-az2
    assert here == "aws/us-east-1/use1-az1:g6.12xlarge"
    assert order == [{"offer": "gcp/us-central1/us-central1-a:g2-standard-4", "accelerator": "L4", "monthlyUsd": 400.0},
                     {"offer": "aws/us-east-1/use1-az2:g6.12xlarge", "accelerator": "L4", "monthlyUsd": 440.0}]
    # `newinfra place --exclude` with the choice (as the program would on losing it): the next offer in order
    gone = (Exclusion.parse(here),)
    moved = solve(req, l4_two_clouds, exclusions=gone).plan("a").placements[0]
    assert f"{moved.cloud}/{moved.region}/{moved.zones[0]}:{moved.instance_type}" == order[0]["offer"]
    doc = lock_document(req, l4_two_clouds, sol, (), failover={"a": order})
    assert doc["workloads"]["a"]["failover"] == order
