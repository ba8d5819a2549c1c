"""`newinfra up` / `rollback` end to end on a copy of the reference project, with another engine object in
place of the Automation API (the one boundary): preflight verdicts, the log, the gate and the rollback."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.cli.up import Blocked, run_rollback, run_up
from newinfra.deploy.gate import probe_clusters
from newinfra.deploy.log import log_path, read_log
from newinfra.exits import BAD_INPUT, INFEASIBLE, OK, PROGRAM_ERROR, VIOLATION
from tests.deploy.samples import report, write_reports
from tests.paths import REPO_ROOT

OUTPUTS = {"clusters": [{"name": "newinfra-dev-aws-us-east-1-gpu", "endpoint": "https://eks.example.com"}],
           "nodeGroups": [{"pool": "pretrain-spot", "desiredSize": 2}], "gpuVmPools": []}


class RecordingEngine:
    """Deploys nothing: keeps the config and lock each `up` saw, and answers with fixed outputs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.deployed: list[tuple[bytes, bytes]] = []

    def up(self, stack: str) -> dict:
        stacks = self.root / "stacks"
        self.deployed.append(((stacks / f"Pulumi.{stack}.yaml").read_bytes(),
                              (stacks / "placements" / f"{stack}.json").read_bytes()))
        return OUTPUTS


def probe(outputs: dict) -> list:
    return probe_clusters(outputs, connect=lambda address, timeout: None)


def validated(outputs: dict, reports_dir: Path) -> None:
    """What validate.yml does after a deploy, on the sample reports: stamp them after every deploy of the clock."""
    for path in sorted(reports_dir.glob("*.json")):
        report = json.loads(path.read_text())
        path.write_text(json.dumps({**report, "validatedAt": "2026-02-01T01:00:00+00:00"}, sort_keys=True))


def clock():
    ticks = itertools.count(1)
    return lambda: f"2026-02-01T00:00:{next(ticks):02d}+00:00"


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy2(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks",
                    ignore=shutil.ignore_patterns("__pycache__", ".*.lock", "deployments"))
    monkeypatch.chdir(root)
    return root


def test_a_failed_gate_after_deploy_n_redeploys_deploy_n_minus_1(project: Path, tmp_path: Path) -> None:
    config, lock = project / "stacks" / "Pulumi.dev.yaml", project / "stacks" / "placements" / "dev.json"
    healthy = write_reports(tmp_path / "healthy", [report("gpu-1"), report("gpu-2")])
    sick = write_reports(tmp_path / "sick", [report("gpu-1"), report("gpu-2", {"xid": "GPU 0: XID 79"})])
    engine, now, said = RecordingEngine(project), clock(), []
    kw = {"make_engine": lambda _root: engine, "now": now, "probe": probe, "validate": validated,
          "out": said.append}

    assert run_up("dev", reports_dir=healthy, **kw) == OK
    good = (config.read_bytes(), lock.read_bytes())
    # Deploy 2 changes the config (a tag: not part of the placement request, so the lock stays fresh).
    config.write_text(config.read_text().replace("owner: ml-platform", "owner: ml-infra"))
    bad = config.read_bytes()
    assert run_up("dev", reports_dir=sick, rollback_on_failure=True, **kw) == VIOLATION

    assert engine.deployed == [good, (bad, good[1]), good]  # the rollback deployed deploy 1's config and lock
    assert (config.read_bytes(), lock.read_bytes()) == good
    deploys = read_log(log_path(project / "stacks", "dev"))
    assert [(d.id, d.kind, d.verdict, d.rollback_of) for d in deploys] == [
        (1, "up", "passed", None), (2, "up", "failed", None), (3, "rollback", "none", 1)]
    assert deploys[1].reasons == ("GPU node gpu-2 is not healthy: xid: GPU 0: XID 79",)
    assert deploys[0].record_sha256 != deploys[1].record_sha256  # the tag is in the record
    assert deploys[2].record_sha256 == deploys[0].record_sha256  # the same program over the same files
    assert deploys[0].time == "2026-02-01T00:00:01+00:00" and deploys[0].commit == "unknown"  # not in git
    assert any("health gate FAILED" in line for line in said)

    # Deploy 3 was never gated: a second rollback still goes to deploy 1, never to 3.
    config.write_text(bad.decode())
    assert run_rollback("dev", **kw) == OK
    assert read_log(log_path(project / "stacks", "dev"))[-1].rollback_of == 1
    assert config.read_bytes() == good[0]


def test_reports_written_before_the_deploy_do_not_pass_its_gate(project: Path, tmp_path: Path) -> None:
    # Yesterday's healthy reports (or ones with no time) say nothing about the nodes this deploy made.
    old = write_reports(tmp_path / "old", [{**report("gpu-1"), "validatedAt": "2026-01-31T23:00:00+00:00"},
                                           report("gpu-2")])
    engine, said = RecordingEngine(project), []
    assert run_up("dev", reports_dir=old, make_engine=lambda _root: engine, now=clock(), probe=probe,
                  validate=lambda outputs, reports_dir: None, out=said.append) == VIOLATION
    (deploy,) = read_log(log_path(project / "stacks", "dev"))
    assert deploy.verdict == "failed"
    assert deploy.reasons == (
        "GPU node gpu-1: report validated at 2026-01-31T23:00:00+00:00, before this deploy finished "
        "(2026-02-01T00:00:01+00:00): stale",
        "GPU node gpu-2: report has no usable validatedAt (None); it cannot be tied to this deploy: run "
        "`ansible-playbook playbooks/validate.yml` against the stack's inventory")


def test_up_runs_the_validation_between_the_deploy_and_the_gate(project: Path, tmp_path: Path) -> None:
    seen = []

    def validate(outputs: dict, reports_dir: Path) -> None:
        seen.append((outputs, reports_dir, len(engine.deployed)))
        write_reports(reports_dir, [{**report("gpu-1"), "validatedAt": "2026-02-01T00:00:02+00:00"}])

    engine = RecordingEngine(project)
    assert run_up("dev", reports_dir=tmp_path / "r", make_engine=lambda _root: engine, now=clock(), probe=probe,
                  validate=validate, out=lambda line: None) == OK
    assert seen == [(OUTPUTS, tmp_path / "r", 1)]  # after `pulumi up`, with its outputs


def test_a_mandatory_violation_blocks_the_deploy(project: Path) -> None:
    with (project / "stacks" / "__main__.py").open("a") as f:
        f.write("\nimport pulumi_aws as _aws\n_aws.ec2.SecurityGroup('wide-open', ingress=[{'protocol': 'tcp', "
                "'from_port': 22, 'to_port': 22, 'cidr_blocks': ['0.0.0.0/0']}])\n")
    engine = RecordingEngine(project)
    with pytest.raises(Blocked, match="mandatory violation") as err:
        run_up("dev", make_engine=lambda _root: engine, probe=probe, out=print)
    assert err.value.code == VIOLATION
    assert engine.deployed == []
    assert not (project / "stacks" / "deployments").exists()


def test_a_stale_lock_blocks_the_deploy(project: Path) -> None:
    config = project / "stacks" / "Pulumi.dev.yaml"
    config.write_text(config.read_text().replace("monthlyBudgetUsd: 12000", "monthlyBudgetUsd: 11000"))
    engine = RecordingEngine(project)
    with pytest.raises(Blocked, match=r"dev.json: not fresh: .*configHash differs.*newinfra place dev") as err:
        run_up("dev", make_engine=lambda _root: engine, probe=probe, out=print)
    assert err.value.code == BAD_INPUT and engine.deployed == []


def test_rollback_without_a_passed_deploy_is_exit_3(project: Path) -> None:
    engine = RecordingEngine(project)
    with pytest.raises(Blocked, match="no deploy passed its health gate") as err:
        run_rollback("dev", make_engine=lambda _root: engine, probe=probe, out=print)
    assert err.value.code == INFEASIBLE and engine.deployed == []


def test_up_without_the_pulumi_cli_is_one_line_and_exit_4(project: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["up", "dev", "--yes"])
    assert result.exit_code == PROGRAM_ERROR, result.output
    assert result.output.startswith("newinfra up: the Pulumi CLI is not on PATH")
    assert result.output.count("\n") == 1
    assert not (project / "stacks" / "deployments").exists()


@pytest.mark.parametrize("command", [["rollback", "dev"], ["up", "dev", "--yes"]])
def test_a_truncated_log_is_exit_2_naming_the_line_and_never_rewritten(project: Path, command) -> None:
    log = log_path(project / "stacks", "dev")
    log.parent.mkdir()
    line = json.dumps({"commit": "c", "configSha256": "0" * 64, "event": "deploy", "id": 1, "kind": "up",
                       "lockSha256": None, "recordSha256": "1" * 64, "rollbackOf": None, "time": "t"}) + "\n"
    log.write_bytes((line + line.replace('"id": 1', '"id": 2'))[:-30].encode())
    before = log.read_bytes()
    result = CliRunner().invoke(app, command)
    assert result.exit_code == BAD_INPUT, result.output
    assert result.output == f"newinfra {command[0]}: {log}:2: truncated line (no newline at its end); valid: one " \
        "complete JSON object per line. The log is left as it is: restore it from a backup or remove that line\n"
    assert log.read_bytes() == before


def test_up_without_a_terminal_needs_yes(project: Path) -> None:
    result = CliRunner().invoke(app, ["up", "dev"])
    assert result.exit_code == BAD_INPUT
    assert result.output == "newinfra up: --yes is required without a terminal (nothing deployed)\n"
    assert not (project / "stacks" / "deployments").exists()


class StockoutEngine(RecordingEngine):
    """Fails like EC2 does while the locked instance type has no capacity in its zone, then deploys."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    def up(self, stack: str) -> dict:
        from newinfra.deploy.engine import DeployFailed

        lock = json.loads((self.root / "stacks" / "placements" / f"{stack}.json").read_text())
        self.deployed.append(((self.root / "stacks" / f"Pulumi.{stack}.yaml").read_bytes(),
                              (self.root / "stacks" / "placements" / f"{stack}.json").read_bytes()))
        if self.failures:
            self.failures -= 1
            p = lock["workloads"]["pretrain"]["placements"][0]
            raise DeployFailed(f"creating EKS Node Group: InsufficientInstanceCapacity: We currently do not have "
                               f"sufficient {p['instanceType']} capacity in the Availability Zone you requested "
                               f"({p['zones'][0]}).")
        return OUTPUTS


def test_a_capacity_error_re_places_without_the_offer_and_deploys_again(project: Path, tmp_path: Path) -> None:
    lock_file = project / "stacks" / "placements" / "dev.json"
    before = json.loads(lock_file.read_text())
    first = before["workloads"]["pretrain"]["placements"][0]
    engine, said, replaced = StockoutEngine(project, failures=1), [], []

    def replace(env: str, exclude: list[str]) -> int:
        replaced.append(exclude)
        from newinfra.cli.up import _place_excluding

        return _place_excluding(env, exclude)

    healthy = write_reports(tmp_path / "r", [report("gpu-1")])
    assert run_up("dev", reports_dir=healthy, make_engine=lambda _root: engine, now=clock(), probe=probe,
                  validate=validated, failover=2, replace=replace, out=said.append) == OK
    assert replaced == [[f"aws/{first['region']}/{first['zones'][0]}:{first['instanceType']}"]]
    after = json.loads(lock_file.read_text())
    moved = after["workloads"]["pretrain"]["placements"][0]
    assert (moved["zones"], moved["instanceType"]) != (first["zones"], first["instanceType"])
    assert replaced[0][0] in after["exclusions"]
    # it went where the lock's failover order said it would go next
    nxt = before["workloads"]["pretrain"]["failover"][0]["offer"]
    assert f"aws/{moved['region']}/{moved['zones'][0]}:{moved['instanceType']}" == nxt
    deploys = read_log(log_path(project / "stacks", "dev"))
    assert [(d.kind, d.verdict) for d in deploys] == [("up", "failed"), ("up", "passed")]
    assert "InsufficientInstanceCapacity" in deploys[0].reasons[0]
    assert any("no capacity for" in line for line in said)


def test_without_failover_or_past_its_count_a_capacity_error_stops(project: Path) -> None:
    engine = StockoutEngine(project, failures=5)
    with pytest.raises(Blocked, match="InsufficientInstanceCapacity"):
        run_up("dev", make_engine=lambda _root: engine, now=clock(), probe=probe, validate=validated,
               failover=0, out=lambda line: None)
    assert len(engine.deployed) == 1
    engine = StockoutEngine(project, failures=5)
    with pytest.raises(Blocked, match="InsufficientInstanceCapacity"):
        run_up("dev", make_engine=lambda _root: engine, now=clock(), probe=probe, validate=validated,
               failover=1, replace=lambda env, exclude: OK, out=lambda line: None)
    assert len(engine.deployed) == 2


def test_capacity_errors_and_the_offers_they_name() -> None:
    from newinfra.deploy.failover import capacity_error, offers_named

    lock = {"workloads": {"a": {"placements": [{"cloud": "gcp", "region": "us-central1", "zones": ["us-central1-a"],
                                                "instanceType": "a2-highgpu-8g"}]},
                          "b": {"placements": [{"cloud": "aws", "region": "us-east-1", "zones": ["use1-az4"],
                                                "instanceType": "p5.48xlarge"}]}}}
    gce = ("googleapi: Error 503: The zone 'projects/p/zones/us-central1-a' does not have enough resources "
           "available to fulfill the request (a2-highgpu-8g), ZONE_RESOURCE_POOL_EXHAUSTED")
    assert capacity_error(gce) and offers_named(gce, lock) == ["gcp/us-central1/us-central1-a:a2-highgpu-8g"]
    # a type that only starts like ours is not ours; a message naming no zone excludes the type in the region
    ec2 = "InsufficientInstanceCapacity: no p5.48xlarge-ish capacity; p5.48xlarge unavailable"
    assert offers_named(ec2, lock) == ["aws/us-east-1:p5.48xlarge"]
    assert not capacity_error("AccessDenied: not authorized to perform ec2:RunInstances")
    assert offers_named("InsufficientInstanceCapacity for g6.xlarge", lock) == []
