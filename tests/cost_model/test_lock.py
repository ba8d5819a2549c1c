"""The lock: byte-stable, stale detection, no churn below the threshold, prod needs --accept, exclusions."""

from __future__ import annotations

import json

import pytest
from newinfra.cost_model.exclusions import Exclusion, parse_exclusions
from newinfra.cost_model.explain import alternatives
from newinfra.cost_model.lock import (
    StaleLock,
    load_placements,
    lock_document,
    plan,
    preview_diff,
    render,
    request_hash,
    write_if_changed,
)
from newinfra.cost_model.request import PlacementRequest

REQ = PlacementRequest.model_validate({"workloads": [
    {"name": "a", "kind": "batch", "accelerator": "L4", "count": 2, "hoursPerMonth": 100},
    {"name": "b", "kind": "inference", "accelerator": "nvidia-l4", "count": 1, "spot": True},
]})


def locked(catalog, request=REQ, exclusions=()):
    sol = plan(request, catalog, exclusions=exclusions).solution
    return lock_document(request, catalog, sol, exclusions, alternatives(request, catalog, sol, exclusions=exclusions))


def test_lock_is_byte_stable_and_written_only_on_change(small_catalog, tmp_path):
    path = tmp_path / "dev.json"
    first = render(locked(small_catalog))
    assert render(locked(small_catalog)) == first
    assert first.endswith("}\n") and json.loads(first)["configHash"] == request_hash(REQ)
    assert write_if_changed(path, json.loads(first)) is True
    assert write_if_changed(path, json.loads(first)) is False
    doc = json.loads(path.read_text())
    assert doc["workloads"]["a"]["alternatives"] and len(doc["workloads"]["a"]["alternatives"]) <= 2
    assert doc["totals"]["placementsUsdPerMonth"] == pytest.approx(
        sum(w["monthlyUsd"] for w in doc["workloads"].values()), abs=0.02)


def test_request_hash_ignores_nothing_the_optimizer_reads():
    other = REQ.model_copy(update={"monthly_budget_usd": 1000.0})
    assert request_hash(other) != request_hash(REQ)
    assert request_hash(PlacementRequest.model_validate(REQ.model_dump(by_alias=True))) == request_hash(REQ)


def test_load_placements_refuses_missing_and_stale_locks(small_catalog, catalog_of, l4, tmp_path):
    path = tmp_path / "staging.json"
    with pytest.raises(StaleLock, match="newinfra place staging"):
        load_placements(REQ, path, small_catalog)
    write_if_changed(path, locked(small_catalog))
    got = load_placements(REQ, path, small_catalog)
    assert [p.workload for p in got] == ["a", "b"]
    changed = REQ.model_copy(update={"monthly_budget_usd": 5000.0})
    with pytest.raises(StaleLock, match="configHash differs.*newinfra place staging"):
        load_placements(changed, path, small_catalog)
    newer = catalog_of([*small_catalog.offers, l4("aws", "us-west-2", "usw2-az1", "g6.xlarge", 0.1, None)])
    with pytest.raises(StaleLock, match="catalog"):
        load_placements(REQ, path, newer)


def cheaper_by(catalog_of, small_catalog, l4, factor):
    """The small catalog plus an on-demand g6.xlarge in us-west-2 at `factor` x the cheapest ($0.90)."""
    return catalog_of([*small_catalog.offers, l4("aws", "us-west-2", "usw2-az1", "g6.xlarge", 0.9 * factor, None)])


def test_no_churn_below_the_threshold(small_catalog, catalog_of, l4):
    before = locked(small_catalog)
    a_before = before["workloads"]["a"]["placements"]
    after = cheaper_by(catalog_of, small_catalog, l4, 0.95)  # 5% cheaper: below 10%
    result = plan(REQ, after, previous=before, threshold=0.10)
    assert [p.to_file() for p in result.solution.plan("a").placements] == a_before
    moved = plan(REQ, after, previous=before, threshold=0.04)
    assert moved.solution.plan("a").placements[0].region == "us-west-2"


def test_prod_moves_only_with_accept(small_catalog, catalog_of, l4):
    before = locked(small_catalog)
    after = cheaper_by(catalog_of, small_catalog, l4, 0.5)
    held = plan(REQ, after, previous=before, production=True)
    assert held.solution.plan("a").placements[0].region == "eu-west-1"
    assert held.held and "--accept" in held.held[0]
    accepted = plan(REQ, after, previous=before, production=True, accept=True)
    assert accepted.solution.plan("a").placements[0].region == "us-west-2"
    assert plan(REQ, after, previous=before).solution.plan("a").placements[0].region == "us-west-2"


def test_exclusion_moves_the_workload_and_is_recorded(small_catalog):
    before = locked(small_catalog)
    excl = parse_exclusions(["aws/eu-west-1/euw1-az1:g6.xlarge", "aws/eu-west-1"])
    assert excl == (Exclusion("aws", "eu-west-1"), Exclusion("aws", "eu-west-1", "euw1-az1", "g6.xlarge"))
    result = plan(REQ, small_catalog, previous=before, exclusions=excl)
    assert result.solution.plan("a").placements[0].region != "eu-west-1"
    doc = lock_document(REQ, small_catalog, result.solution, excl)
    assert doc["exclusions"] == ["aws/eu-west-1", "aws/eu-west-1/euw1-az1:g6.xlarge"]
    with pytest.raises(ValueError, match="CLOUD/REGION"):
        parse_exclusions(["azure/eastus"])


def test_preview_diff(small_catalog, catalog_of, l4, tmp_path):
    path = tmp_path / "dev.json"
    write_if_changed(path, locked(small_catalog))
    assert preview_diff(REQ, path, small_catalog) == []
    lines = preview_diff(REQ, path, cheaper_by(catalog_of, small_catalog, l4, 0.5))
    assert len(lines) == 1 and lines[0].startswith("a: 2 x g6.xlarge on-demand in aws/eu-west-1")
    assert "us-west-2" in lines[0]
    assert "would create it" in preview_diff(REQ, tmp_path / "none.json", small_catalog)[0]
