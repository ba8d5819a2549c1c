"""A lock is checked against the config and the catalog on every read: edits by hand are named, never planned.

Each case edits a copy of the reference dev lock the way an attacker or a careless merge would, with its
hashes left intact, and expects the program (`resolve_placements`), `newinfra place` and `newinfra check` to
name the workload, the field, the locked value and what is allowed."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from newinfra.cost_model.catalog import load_catalog
from newinfra.cost_model.lock import InvalidLock, load_placements, review_lock

from newinfra.config import ConfigError, load_env_config
from newinfra.project import find_project
from tests.paths import REPO_ROOT


@pytest.fixture(scope="module")
def dev():
    project = find_project(REPO_ROOT)
    cfg = load_env_config("dev", project)
    doc = json.loads(project.lock_path("dev").read_text())
    return cfg, doc, load_catalog()


@pytest.fixture()
def project(tmp_path, monkeypatch):
    """A copy of the project (its program, stack files and locks: `place` prices the program's bill), as the
    current directory."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems(dev, edit) -> list[str]:
    cfg, doc, catalog = dev
    doc = copy.deepcopy(doc)
    edit(doc)
    return review_lock(cfg.request, doc, catalog).problems


def pool(doc, name="pretrain") -> dict:
    return doc["workloads"][name]["placements"][0]


def test_the_reference_locks_are_clean_and_priced_from_the_catalog(dev):
    cfg, doc, catalog = dev
    review = review_lock(cfg.request, doc, catalog)
    assert review.problems == []
    assert review.total_monthly_usd == doc["totals"]["placementsUsdPerMonth"]
    for env in ("staging", "prod"):
        other = load_env_config(env, find_project(REPO_ROOT))
        assert review_lock(other.request, json.loads(find_project(REPO_ROOT).lock_path(env).read_text()),
                           catalog).problems == []


def test_an_empty_workloads_map_is_refused(dev):
    found = problems(dev, lambda d: d.update(workloads={}))
    assert any("workloads.chat-serve: missing" in p for p in found)
    assert any("workloads.pretrain: missing" in p for p in found)


def test_a_missing_and_an_extra_workload_are_named(dev):
    def edit(d):
        d["workloads"]["ghost"] = d["workloads"].pop("chat-serve")
    found = problems(dev, edit)
    assert any(p.startswith("workloads.chat-serve: missing") for p in found)
    assert any(p.startswith("workloads.ghost: not a workload of the config; valid: chat-serve, pretrain")
               for p in found)


def test_a_region_the_residency_forbids_is_refused(dev):
    found = problems(dev, lambda d: pool(d).update(region="eu-west-1", zones=["euw1-az1"]))
    assert found == ["workloads.pretrain.placements[0].region: locked 'eu-west-1'; dataResidency.internal "
                     "(dataset web-tokens) allows us-east-1"]


def test_a_cloud_outside_allowed_clouds_is_refused(dev):
    found = problems(dev, lambda d: pool(d).update(cloud="gcp"))
    assert found == ["workloads.pretrain.placements[0].cloud: locked 'gcp'; allowedClouds: aws"]


def test_an_edited_price_is_named_with_the_catalog_price(dev):
    cfg, doc, catalog = dev
    real = pool(doc)["nodeHourlyUsd"]
    found = problems(dev, lambda d: pool(d).update(nodeHourlyUsd=0.01))
    assert found == [f"workloads.pretrain.placements[0].nodeHourlyUsd: locked 0.01, the catalog's spot price "
                     f"for p4d.24xlarge in aws/use1-az6 is {real}"]
    totals = problems(dev, lambda d: d["totals"].update(placementsUsdPerMonth=10.0))
    assert totals == [f"totals.placementsUsdPerMonth: locked 10.0, the catalog gives "
                      f"{doc['totals']['placementsUsdPerMonth']}"]
    monthly = problems(dev, lambda d: d["workloads"]["chat-serve"].update(monthlyUsd=1.0))
    assert monthly == ["workloads.chat-serve.monthlyUsd: locked 1.0, the catalog gives 587.504"]


def test_a_zone_type_or_market_the_catalog_does_not_offer_is_refused(dev):
    cfg, doc, catalog = dev
    offered = sorted({o.zone for o in catalog.offers if (o.cloud, o.region, o.instance_type) ==
                      ("aws", "us-east-1", "p4d.24xlarge")})
    other = sorted({o.zone for o in catalog.offers if (o.cloud, o.region) == ("aws", "us-east-1")} - set(offered))
    assert other, "the catalog offers p4d.24xlarge in every us-east-1 zone: pick another type for this test"
    zone = problems(dev, lambda d: pool(d).update(zones=[other[0]]))
    assert zone == [f"workloads.pretrain.placements[0]: locked p4d.24xlarge with 8 x A100 in "
                    f"aws/us-east-1/{other[0]}; the catalog offers it there in zones {offered}"]
    itype = problems(dev, lambda d: pool(d, "chat-serve").update(instanceType="g6.nosuch"))
    assert itype == ["workloads.chat-serve.placements[0].instanceType: locked 'g6.nosuch'; the catalog offers "
                     "no g6.nosuch with 1 x L4 in aws/us-east-1"]
    market = problems(dev, lambda d: pool(d, "chat-serve").update(market="capacity-block"))
    assert len(market) == 1 and market[0].startswith(
        "workloads.chat-serve.placements[0].market: locked 'capacity-block'; the catalog offers g6.xlarge")
    spot = problems(dev, lambda d: pool(d, "chat-serve").update(market="spot"))
    assert "workloads.chat-serve.placements[0].market: locked 'spot'; the workload has spot: false" in spot


def test_nodes_and_quotas_are_checked(dev):
    found = problems(dev, lambda d: pool(d).update(nodes=1, minNodes=0))
    assert found == ["workloads.pretrain.placements: locked 8 x A100 in all; the workload's count is 16"]
    ceiling = problems(dev, lambda d: pool(d).update(maxNodes=50))
    assert ceiling == ["workloads.pretrain.placements[0].maxNodes: locked 50; the workload allows at most 2"]

    cfg, doc, catalog = dev  # two spot p4d.24xlarge hold 192 vCPUs of the P spot quota
    tight = cfg.request.model_copy(update={"quotas": tuple(q.model_copy(update={"limit": 96.0})
                                                           for q in cfg.request.quotas)})
    assert any(p.startswith("quotas: aws/us-east-1/P (spot): the locked pools use 192, the limit is 96")
               for p in review_lock(tight, doc, catalog).problems)


def test_load_placements_raises_naming_the_file_and_the_program_stops(dev, project):
    from stacks.program import resolve_placements

    cfg, doc, catalog = dev
    path = project / "stacks" / "placements" / "dev.json"
    edited = copy.deepcopy(doc)
    pool(edited).update(region="eu-west-1", zones=["euw1-az1"])
    path.write_text(json.dumps(edited))
    with pytest.raises(InvalidLock, match=r"dev\.json: the lock breaks .*pretrain.*region: locked 'eu-west-1'"):
        load_placements(cfg.request, path, catalog)
    with pytest.raises(ConfigError, match="dataResidency.internal"):
        resolve_placements(cfg)
    path.write_text(json.dumps({**doc, "workloads": {}}))
    with pytest.raises(ConfigError, match="workloads.pretrain: missing"):
        resolve_placements(cfg)


def test_place_rewrites_an_edited_lock_and_says_what_it_fixed(dev, project):
    from typer.testing import CliRunner

    from newinfra.cli.app import app

    cfg, doc, catalog = dev
    path = project / "stacks" / "placements" / "dev.json"
    original = path.read_text()
    edited = copy.deepcopy(doc)
    pool(edited).update(nodeHourlyUsd=0.01)
    edited["totals"]["monthlyUsd"] = 10.0  # the bill's total: rewritten from the program's record
    edited["bill"] = {}
    path.write_text(json.dumps(edited))
    result = CliRunner().invoke(app, ["place", "dev"])
    assert result.exit_code == 0, result.output
    assert "fixing" in result.output and "nodeHourlyUsd: locked 0.01" in result.output
    assert path.read_text() == original


def test_check_refuses_an_edited_lock_and_compares_bills(dev, project):
    from newinfra.cli.check import CheckInputError, check_lock_content, lock_diff

    cfg, doc, catalog = dev
    proj = find_project(project)
    path = proj.lock_path("dev")
    check_lock_content(proj, "dev", path)
    assert lock_diff(path, None, None).current_usd == doc["totals"]["monthlyUsd"]
    edited = copy.deepcopy(doc)
    edited["totals"]["placementsUsdPerMonth"] = 10.0
    path.write_text(json.dumps(edited))
    with pytest.raises(CheckInputError, match=r"dev\.json: .*totals\.placementsUsdPerMonth: locked 10\.0"):
        check_lock_content(proj, "dev", path)
    # the base branch's lock: its bill total and its bill per resource
    base = project / "base.json"
    urn = next(iter(doc["bill"]))
    base.write_text(json.dumps({**doc, "totals": {**doc["totals"], "monthlyUsd": 1.0},
                                "bill": {**doc["bill"], urn: doc["bill"][urn] + 5.0}}))
    path.write_text(json.dumps(doc))
    diff = lock_diff(path, None, base)
    assert diff.base_usd == 1.0 and diff.delta_usd == round(doc["totals"]["monthlyUsd"] - 1.0, 2)
    assert diff.base_resources[urn] == doc["bill"][urn] + 5.0


def _lower_prod_budget(project, budget: int) -> None:
    stack = project / "stacks" / "Pulumi.prod.yaml"
    text = stack.read_text()
    assert "newinfra:monthlyBudgetUsd: 250000" in text
    stack.write_text(text.replace("newinfra:monthlyBudgetUsd: 250000", f"newinfra:monthlyBudgetUsd: {budget}"))


def test_production_never_shrinks_silently(project):
    """prod's budget lowered to 100000: pretrain (highest priority) no longer fits. Without --accept nothing is
    written (exit 3, the workload, what changes and its cost); with it the lock records pretrain as left out,
    its reason's figures agree with each other, and `check` reports it as a mandatory violation."""
    import re

    from typer.testing import CliRunner

    from newinfra.cli.app import app
    from newinfra.cli.check import LEFT_OUT_POLICY, left_out_violations

    path = project / "stacks" / "placements" / "prod.json"
    original = path.read_text()
    assert left_out_violations(find_project(project), "prod", path) == []
    _lower_prod_budget(project, 100000)
    runner = CliRunner()
    refused = runner.invoke(app, ["place", "prod"])
    assert refused.exit_code == 3, refused.output
    assert re.search(r"pretrain: left out \(was 4 nodes, \$[\d,.]+/month\): monthlyBudgetUsd leaves",
                     refused.output) and "--accept" in refused.output
    assert path.read_text() == original
    accepted = runner.invoke(app, ["place", "prod", "--accept"])
    assert accepted.exit_code == 0, accepted.output
    doc = json.loads(path.read_text())
    (left,) = [lo for lo in doc["leftOut"] if lo["workload"] == "pretrain"]
    leaves, needs = (float(v.replace(",", "")) for v in
                     re.fullmatch(r"monthlyBudgetUsd leaves \$([\d,.]+)/month after the workloads of higher or "
                                  r"equal priority; its cheapest placement next to them needs \$([\d,.]+)/month",
                                  left["reason"]).groups())
    assert needs > leaves
    assert leaves == pytest.approx(100000 - doc["totals"]["placementsUsdPerMonth"], abs=0.01)
    (finding,) = left_out_violations(find_project(project), "prod", path)
    assert (finding.policy, finding.level, finding.resource) == (LEFT_OUT_POLICY, "mandatory", "pretrain")
    assert "workload 'pretrain' (priority" in finding.message and "serving it costs $" in finding.message


def test_place_writes_nothing_when_the_program_fails_pricing_its_bill(project):
    """`place` runs the program over the lock it wrote to price the whole bill; when the program raises, the
    lock goes back to what it was (absent stays absent), exit 4 with one line naming the stack."""
    from typer.testing import CliRunner

    from newinfra.cli.app import app

    main = project / "stacks" / "__main__.py"
    main.write_text('raise RuntimeError("the program broke")\n' + main.read_text())
    path = project / "stacks" / "placements" / "dev.json"
    edited = json.loads(path.read_text())
    edited["bill"] = {}  # so that place has something to rewrite
    path.write_text(json.dumps(edited))
    before = path.read_text()
    result = CliRunner().invoke(app, ["place", "dev"])
    assert result.exit_code == 4, result.output
    assert "not written: the program failed for stack 'dev'" in result.output and "the program broke" in result.output
    assert path.read_text() == before
    path.unlink()
    result = CliRunner().invoke(app, ["place", "dev"])
    assert result.exit_code == 4 and not path.exists()
