"""Issue 11, "one set of figures": for each reference stack the lock's total, check's budget figure, the plan
summary's total and the PR comment's total are the same number to the cent, each read from that command's
own output (the lock file, `check --json`, `plan --json`, the `check --markdown` comment and the
`cost --summary` section the workflow puts on top of it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from tests.paths import REPO_ROOT

ENVS = ("dev", "staging", "prod")


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _row(markdown: str, label: str) -> float:
    found = re.search(rf"^\| {re.escape(label)} \| \**(\$[\d,.]+)\** \|", markdown, re.M)
    assert found, f"no {label!r} row in:\n{markdown}"
    return _money(found.group(1))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, dict]:
    """Per environment: the committed lock, and what plan, check and the comment say about the same inputs."""
    import os

    tmp = tmp_path_factory.mktemp("figures")
    old = Path.cwd()
    os.chdir(REPO_ROOT)
    runner = CliRunner()
    out: dict[str, dict] = {}
    try:
        for env in ENVS:
            record = tmp / env
            plan = runner.invoke(app, ["plan", env, "--out", str(record), "--json"])
            assert plan.exit_code == 0, plan.output
            lock_path = REPO_ROOT / "stacks" / "placements" / f"{env}.json"
            md = tmp / f"{env}.md"
            check = runner.invoke(app, ["check", env, "--record", str(record), "--json", "--markdown", str(md),
                                        "--base-lock", str(lock_path)])
            assert check.exit_code == 0, check.output
            (tmp / f"{env}.json").write_text(check.stdout)
            out[env] = {"lock": json.loads(lock_path.read_text()), "plan": json.loads(plan.stdout),
                        "check": json.loads(check.stdout), "comment": md.read_text()}
        summary = tmp / "summary.md"
        done = runner.invoke(app, ["cost", *[a for env in ENVS for a in ("--summary", str(tmp / f"{env}.json"))],
                                   "--markdown", str(summary)])
        assert done.exit_code == 0, done.output
        out["summary"] = {"markdown": summary.read_text()}
    finally:
        os.chdir(old)
    return out


@pytest.mark.parametrize("env", ENVS)
def test_lock_check_plan_and_comment_totals_are_identical(outputs, env) -> None:
    o = outputs[env]
    lock, check, plan, comment = o["lock"]["totals"], o["check"]["cost"], o["plan"]["cost"], o["comment"]
    desired = {"lock": lock["monthlyUsd"], "check": check["monthlyUsd"], "plan": plan["monthlyUsd"],
               "comment": _row(comment, "**total, desired size**"),
               "all-environments comment": _row(outputs["summary"]["markdown"], f"`{env}`")}
    assert len(set(desired.values())) == 1, desired
    # the budget rule judges max size (its default basis): the same figure everywhere too
    at_max = {"lock": lock["maxMonthlyUsd"], "check budget figure": check["budgetFigureUsd"],
              "plan": plan["maxMonthlyUsd"], "comment": _row(comment, "total, max size")}
    assert len(set(at_max.values())) == 1, at_max
    # egress is its own line everywhere, and it is the solver's egress
    egress = {"lock": lock["egressUsdPerMonth"], "check": check["egressUsdPerMonth"],
              "plan": plan["egressUsdPerMonth"], "comment": _row(comment, "of which egress")}
    assert len(set(egress.values())) == 1, egress
    # the same date on every output
    assert o["lock"]["priceDate"] == check["priceDate"] == plan["priceDate"]
    assert f"_Prices as of {check['priceDate']} (the oldest price used" in comment
    # and the same lines: the lock's bill per resource is check's
    assert o["lock"]["bill"] == {r["urn"]: r["monthlyUsd"] for r in check["resources"]}
    assert check["resources"]  # the bill has lines, not only a total


def test_the_cross_environment_total_is_the_sum_of_the_locks(outputs) -> None:
    total = round(sum(outputs[env]["lock"]["totals"]["monthlyUsd"] for env in ENVS), 2)
    assert _row(outputs["summary"]["markdown"], "**total**") == total
    dates = {outputs[env]["lock"]["priceDate"] for env in ENVS}
    assert f"_Prices as of {min(dates)} (the oldest price used)._" in outputs["summary"]["markdown"]


def test_pools_are_priced_in_the_zone_the_lock_chose(outputs) -> None:
    """Every accelerator pool's bill line is the lock's own figure for its workload (nodes x the chosen
    zone's price x the workload's hours), not the region's dearest zone."""
    for env in ENVS:
        lock = outputs[env]["lock"]
        lines = {r["urn"]: r["monthlyUsd"] for r in outputs[env]["check"]["cost"]["resources"]}
        for name, entry in lock["workloads"].items():
            pools = [urn for urn in lines if re.search(rf"(NodeGroup|NodePool|V2Vm)::.*-{name}(-spot)?(-\d+)?$", urn)]
            assert pools, (env, name)
            assert round(sum(lines[u] for u in pools) + entry["egressUsdPerMonth"], 2) == entry["monthlyUsd"], \
                (env, name)


def test_the_comment_shows_the_change_per_resource_against_the_base_lock(tmp_path, outputs) -> None:
    import os

    lock = outputs["dev"]["lock"]
    urn = next(u for u, usd in lock["bill"].items() if usd > 100)
    base = {**lock, "bill": {**lock["bill"], urn: round(lock["bill"][urn] - 100.0, 2)},
            "totals": {**lock["totals"], "monthlyUsd": round(lock["totals"]["monthlyUsd"] - 100.0, 2)}}
    (tmp_path / "base.json").write_text(json.dumps(base))
    old = Path.cwd()
    os.chdir(REPO_ROOT)
    try:
        plan = CliRunner().invoke(app, ["plan", "dev", "--out", str(tmp_path / "dev"), "--json"])
        assert plan.exit_code == 0, plan.output
        result = CliRunner().invoke(app, ["check", "dev", "--record", str(tmp_path / "dev"), "--json", "--markdown",
                                          str(tmp_path / "dev.md"), "--base-lock", str(tmp_path / "base.json")])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "dev.md").read_text()
    assert "| **change** | **+$100.00** |" in text
    name = urn.rsplit("::", 1)[-1]
    assert re.search(rf"^\| `{re.escape(name)}` \| \$[\d,.]+ \| \$[\d,.]+ \| \+\$100\.00 \|$", text, re.M), text
    changes = json.loads(result.stdout)["lock"]["changes"]
    assert [(c["urn"], c["deltaUsd"]) for c in changes] == [(urn, 100.0)]
