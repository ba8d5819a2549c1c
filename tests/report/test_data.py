"""Issue 17: the report's data and page. Its figures are the whole bill's (`newinfra cost`, `totals()`, the
lock), its placements the lock's, and every mandatory finding sits on the node of its resource."""

from __future__ import annotations

import json
import re
from html import unescape
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.report import data
from tests.paths import REPO_ROOT

LOCK = REPO_ROOT / "stacks/placements/prod.json"


def _report(record_dir, tmp_path, *extra):
    from newinfra.cli.report import build_report

    d, _ = build_report("prod", None, None, record_dir, None, None, *extra or (None,))
    return d


@pytest.fixture(scope="module")
def prod_data(prod_record_dir):
    from newinfra.cli.report import build_report

    return build_report("prod", None, None, prod_record_dir, None, None, None)[0]


def test_totals_equal_newinfra_cost_and_the_lock(prod_data, prod_record_dir, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    res = CliRunner().invoke(app, ["cost", "--record", str(prod_record_dir), "--json"])
    assert res.exit_code == 0, res.output
    cost = json.loads(res.stdout[res.stdout.index("{"):])
    lock = json.loads(LOCK.read_text())
    t = prod_data["totals"]
    assert t["monthlyUsd"] == cost["monthlyUsd"] == lock["totals"]["monthlyUsd"]
    assert t["maxMonthlyUsd"] == cost["maxMonthlyUsd"] == lock["totals"]["maxMonthlyUsd"]
    assert t["priceDate"] == cost["priceDate"] == lock["priceDate"]
    assert t["acceleratorMonthlyUsd"] == cost["acceleratorMonthlyUsd"]
    # every priced resource's figure is the bill's, and the lock's
    mine = {r["urn"]: r["monthlyUsd"] for r in prod_data["bill"]["resources"]}
    assert mine == {r["urn"]: r["monthlyUsd"] for r in cost["resources"]} == lock["bill"]
    # the chart's groups are parts of that bill: they add up to it (to rounding of the parts)
    assert sum(g["monthlyUsd"] for g in prod_data["bill"]["groups"]) == pytest.approx(t["monthlyUsd"], abs=0.05)
    assert {g["kind"] for g in prod_data["bill"]["groups"] if g["accelerator"]} == {"accelerator nodes"}


def test_placements_are_the_locks(prod_data):
    lock = json.loads(LOCK.read_text())
    p = prod_data["placements"]
    assert [w["workload"] for w in p["workloads"]] == sorted(lock["workloads"])
    for w in p["workloads"]:
        entry = lock["workloads"][w["workload"]]
        assert w["monthlyUsd"] == entry["monthlyUsd"]
        assert w["alternatives"] == entry["alternatives"]
        assert [(q["cloud"], q["region"], q["instanceType"], q["market"], q["nodes"]) for q in w["pools"]] == \
            [(q["cloud"], q["region"], q["instanceType"], q["market"], q["nodes"]) for q in entry["placements"]]
    x = p["explanation"]
    assert x is not None and x["placementsUsd"] == lock["totals"]["placementsUsdPerMonth"]
    assert p["leftOut"] == lock["leftOut"]


def test_data_is_json_and_deterministic(prod_data, prod_record_dir):
    from newinfra.cli.report import build_report

    again = build_report("prod", None, None, prod_record_dir, None, None, None)[0]
    assert json.dumps(prod_data, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert [r["urn"] for r in prod_data["table"]] == sorted(r["urn"] for r in prod_data["table"])
    assert len(prod_data["table"]) == len(json.loads((prod_record_dir / "resources.json").read_text()))


def _planted(prod_record_dir, tmp_path):
    """The prod record with key rotation turned off on its first AWS KMS key: a mandatory
    key-rotation-no-wildcards finding on that key."""
    import shutil

    out = tmp_path / "prod"
    shutil.copytree(prod_record_dir, out)
    resources = json.loads((out / "resources.json").read_text())
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key")
    key["inputs"]["enableKeyRotation"] = False
    (out / "resources.json").write_text(json.dumps(resources))
    return out, key


def test_every_mandatory_finding_is_on_its_node(prod_record_dir, tmp_path):
    from newinfra.cli.report import build_report

    record, key = _planted(prod_record_dir, tmp_path)
    d = build_report("prod", None, None, record, None, None, None)[0]
    mandatory = [f for f in d["findings"] if f["level"] == "mandatory"]
    assert any(f["urn"] == key["urn"] and f["policy"] == "key-rotation-no-wildcards" for f in mandatory)
    nodes = {ch["urn"]: (comp, ch) for comp in d["graph"]["components"] for ch in comp["children"]}
    tops = {comp["id"]: comp for comp in d["graph"]["components"]}
    for f in mandatory:
        if f["urn"] in nodes:
            comp, node = nodes[f["urn"]]
            assert f in node["findings"] and node["status"] == "mandatory"
            assert comp["status"] == "mandatory"  # collapsed, the component shows its worst
        elif f["urn"] in tops:
            assert f in tops[f["urn"]]["findings"] and tops[f["urn"]]["status"] == "mandatory"
        else:
            assert f in d["stackFindings"]
    assert d["counts"]["mandatory"] == len(mandatory)
    row = next(r for r in d["table"] if r["urn"] == key["urn"])
    assert row["status"] == "mandatory" and row["findings"] >= 1


def test_the_page_shows_the_figures_and_the_planted_finding(prod_record_dir, tmp_path, needs_dot):
    from newinfra.cli.report import build_report
    from newinfra.report.page import money, render

    record, key = _planted(prod_record_dir, tmp_path)
    d = build_report("prod", None, None, record, None, None, None)[0]
    html = render(d)
    assert f'id="total-monthly">{money(d["totals"]["monthlyUsd"])}<' in html
    assert f'id="total-max">{money(d["totals"]["maxMonthlyUsd"])}<' in html
    assert d["totals"]["priceDate"] in html
    # the finding is in the node's own entry (its <li data-urn>) and in the node's hover text in the SVG
    anchor = next(f"c{i}n{j}" for i, c in enumerate(d["graph"]["components"])
                  for j, ch in enumerate(c["children"]) if ch["urn"] == key["urn"])
    item = re.search(rf'<li id="{anchor}">(.*?)</li>\s*</ul>\s*</li>', html, re.S)
    assert item and key["name"] in item.group(1) and 'data-policy="key-rotation-no-wildcards"' in item.group(1)
    title = re.search(rf'<a xlink:href="#{anchor}" xlink:title="([^"]*)"', html)
    assert title and unescape(title.group(1)).startswith("mandatory key-rotation-no-wildcards: 'aws-budget-alerts'")
    # nothing is fetched at view time: no script, no external URL in src/href
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)


def test_status_and_grouping_rules():
    f = lambda level, policy="p": {"level": level, "policy": policy}  # noqa: E731
    assert data.status_of([]) == "clean"
    assert data.status_of([f("advisory"), f("mandatory")]) == "mandatory"
    assert data.status_of([f("advisory", data.NOT_INSPECTED_POLICY)]) == "not inspected"
    assert data.status_of([], inspected=False) == "not inspected"
    assert data.worst(["clean", "not inspected", "advisory"]) == "advisory"
    assert data.kind_of("aws:ec2/launchTemplate:LaunchTemplate") == "LaunchTemplate"
    assert data.kind_of("pulumi:providers:aws") == "provider"
    resources = [
        {"urn": "c", "name": "c", "type": "x:C", "parent": None, "custom": False},
        {"urn": "c/k", "name": "k", "type": "x:K", "parent": "c", "custom": False},
        {"urn": "c/k/r", "name": "r", "type": "aws:s3/bucket:Bucket", "parent": "c/k", "dependencies": ["p"]},
        {"urn": "p", "name": "p", "type": "pulumi:providers:aws", "parent": None},
    ]
    g = data.graph(resources, [{"urn": "c/k/r", "level": "advisory", "policy": "q", "message": "m"}],
                   {"c/k/r": 1.5}, {"c/k/r": "us-east-1"}, {"c/k/r": "aws"})
    assert [c["id"] for c in g["components"]] == [data.STACK_NODE, "c"]
    comp = g["components"][1]
    assert (comp["cloud"], comp["region"], comp["monthlyUsd"], comp["resources"]) == ("aws", "us-east-1", 1.5, 3)
    assert (g["components"][0]["cloud"], g["components"][0]["region"]) == ("stack", "providers")
    assert comp["status"] == "advisory" and [ch["urn"] for ch in comp["children"]] == ["c/k", "c/k/r"]
    assert g["edges"] == [{"from": "c", "to": data.STACK_NODE}]


def test_change_against_a_base_bill():
    line = SimpleNamespace(monthly_usd=10.0)
    bill = SimpleNamespace(priced=[SimpleNamespace(urn="a", name="a", monthly_usd=10.0, lines=[line])],
                           totals=SimpleNamespace(monthly_usd=10.0))
    c = data.change(bill, {"a": 4.0, "b": 1.0}, "base lock x")
    assert (c["baseMonthlyUsd"], c["deltaUsd"]) == (5.0, 5.0)
    assert [(r["urn"], r["deltaUsd"]) for r in c["resources"]] == [("a", 6.0), ("b", -1.0)]
    assert data.change(bill, None, None) is None


def test_big_stack_report_stays_small_and_collapsed(prod_record_dir, tmp_path, needs_dot):
    from newinfra.offline import load_record
    from newinfra.report.page import render
    from tests.report.big import big_record

    big = big_record(load_record(prod_record_dir), 2000)
    assert len(big.resources) >= 2000
    assert big_record(load_record(prod_record_dir), 2000).resources == big.resources  # deterministic
    big.write(tmp_path / "big")
    from newinfra.cli.report import build_report

    d = build_report("prod", None, None, tmp_path / "big", None, None, None)[0]
    html = render(d)
    size = len(html.encode())
    # 3 MB per 2,000 resources: big_record copies whole subtrees, so the count overshoots 2,000 by a share of
    # prod's size, and the budget is per resource (the page grows with the stack, never per resource)
    assert size < 1_500 * len(big.resources), f"{size:,} bytes for {len(big.resources)} resources"
    comps = d["graph"]["components"]
    overview = html[html.index('<svg width'):]
    overview = overview[:overview.index("</svg>")]
    # collapsed: one overview node per top-level component, the resources only inside their <details>
    assert overview.count('class="node"') == len(comps) < len(big.resources) / 10
    assert html.count('<details id="c') == len(comps)
