"""`newinfra up ENV` and `newinfra rollback ENV`: deploy through the Automation API behind a preflight and a
health gate, log every deploy, and go back to the last deploy whose gate passed.

Exit codes (newinfra/exits.py): 0 deployed and the gate passed (rollback: redeployed); 1 the preflight found a
mandatory violation or the whole bill over monthlyBudgetUsd (nothing deployed), or the gate failed; 2 bad
input (unknown ENV, config, a stale/damaged lock, a damaged deployment log — never rewritten); 3 rollback
with no deploy that passed its gate; 4 the program failed, `pulumi up` failed, or the Pulumi CLI is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from newinfra.exits import BAD_INPUT, INFEASIBLE, OK, PROGRAM_ERROR, VIOLATION

DEFAULT_REPORTS = Path("build") / "gpu_validate"  # where ansible/playbooks/validate.yml writes them
VALIDATE_PLAYBOOK = Path("ansible") / "playbooks" / "validate.yml"


class Blocked(Exception):
    """Stop before (or instead of) deploying: a one-line message and its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Ready:
    """What the preflight cleared for deploying."""
    config_text: str
    lock_text: str | None
    record_sha256: str


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def git_commit(root: Path) -> str:
    """HEAD of the project's repository, "+dirty" when files differ from it; "unknown" outside git."""
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def record_sha256(record) -> str:
    """sha256 of the record as `newinfra plan` writes it (its three files, by name)."""
    import hashlib

    from newinfra.record import CONFIG_FILE, OUTPUTS_FILE, RESOURCES_FILE

    digest = hashlib.sha256()
    files = record.files()
    for name in (CONFIG_FILE, OUTPUTS_FILE, RESOURCES_FILE):  # the order the hash was defined with
        digest.update(files[name].encode("utf-8"))
    return digest.hexdigest()


def _project(env: str):
    from newinfra.project import ProjectError, find_project

    try:
        project = find_project()
    except ProjectError as err:
        raise Blocked(str(err), BAD_INPUT) from None
    if env not in project.stacks():
        raise Blocked(f"ENV: {env!r} is not an environment; valid: {project.stacks()}", BAD_INPUT)
    return project


def check_lock_fresh(env: str, project) -> str:
    """The lock's text, when it was made for this config and catalog and its content holds (the review
    `place` does); Blocked (exit 2) otherwise."""
    from newinfra.config import ConfigError, load_env_config
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.lock import BadLock, read_lock, review_lock, stale_reasons

    try:
        cfg = load_env_config(env, project)
    except ConfigError as err:
        raise Blocked(str(err), BAD_INPUT) from None
    path = project.lock_path(env)
    try:
        doc = read_lock(path)
    except BadLock as err:
        raise Blocked(str(err), BAD_INPUT) from None
    if doc is None:
        raise Blocked(f"{path}: no placement lock; run `newinfra place {env}` and review it first", BAD_INPUT)
    catalog = load_catalog()
    problems = stale_reasons(cfg.request, doc, catalog) or review_lock(cfg.request, doc, catalog).problems
    if problems:
        raise Blocked(f"{path}: not fresh: {'; '.join(problems)}; run `newinfra place {env}`", BAD_INPUT)
    return path.read_text(encoding="utf-8")


def run_offline(env: str, project):
    """The program's record (as `pulumi preview`); Blocked(exit 4) when it fails."""
    from newinfra.offline import run_program

    try:
        return run_program(project.root, env, preview=True)
    except Exception as err:  # noqa: BLE001 - the program's own error, however the SDK surfaced it
        raise Blocked(f"the program failed for stack {env!r}: {type(err).__name__}: "
                      f"{' '.join(str(err).split())[:300]}", PROGRAM_ERROR) from None


def over_budget(record, budget: float | None) -> str | None:
    """Why the whole bill (as `check` prices it, at the monthly-budget rule's default basis) is over budget."""
    from newinfra.policies import report
    from newinfra.policies.rules.budget.cost import figure

    if budget is None:
        return None
    bill = report.stack_bill(record, {})
    total = figure(bill, {})
    if total <= budget:
        return None
    return (f"the whole bill ${total:,.2f}/month (at max size) exceeds newinfra:monthlyBudgetUsd "
            f"${budget:,.2f}; nothing deployed (`newinfra cost {record.stack}` lists the lines)")


def preflight(env: str, project) -> Ready:
    """Lock fresh, both policy packs (`check`'s verdict on the same record), whole bill within budget."""
    from newinfra.cli.check import run_check
    from newinfra.config import load_env_config

    lock_text = check_lock_fresh(env, project)
    config_text = project.config_path(env).read_text(encoding="utf-8")
    record = run_offline(env, project)
    with tempfile.TemporaryDirectory(prefix=f"newinfra-up-{env}-") as tmp:
        record.write(Path(tmp) / env)
        code = run_check(env, None, None, record_dir=Path(tmp) / env)
    if code == VIOLATION:
        raise Blocked(f"stack {env!r}: `newinfra check` found a mandatory violation (above); nothing deployed",
                      VIOLATION)
    if code != OK:
        raise Blocked(f"stack {env!r}: `newinfra check` could not judge it (exit {code}); nothing deployed", code)
    reason = over_budget(record, load_env_config(env, project).request.monthly_budget_usd)
    if reason:
        raise Blocked(reason, VIOLATION)
    return Ready(config_text, lock_text, record_sha256(record))


def gate(outputs: dict, reports_dir: Path, probe: Callable[[dict], list], since: str | None = None):
    """``since``: when the deploy finished; only reports validated after it count."""
    from newinfra.deploy.gate import gpu_nodes_expected, judge, read_reports

    return judge(probe(outputs), read_reports(reports_dir), gpu_nodes_expected=gpu_nodes_expected(outputs),
                 reports_dir=str(reports_dir), since=since)


Validate = Callable[[dict, Path], None]


def validate_with_ansible(root: Path, out=print) -> Validate:
    """Run the project's ansible/playbooks/validate.yml on the deployed GPU nodes (inventory from the new stack
    outputs through ansible/stack_inventory.py, auto scaling groups resolved), writing reports into the gate's
    directory. Its exit status is not the verdict (an unhealthy node fails the play after writing its
    report): the gate reads the reports. Without the playbook or ansible-playbook nothing runs, and the gate
    finds no report written after the deploy."""
    import json
    import os
    import shutil

    def run(outputs: dict, reports_dir: Path) -> None:
        playbook = root / VALIDATE_PLAYBOOK
        # the venv's own ansible (the `ansible` extra) first, then PATH
        binary = shutil.which("ansible-playbook", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                        os.environ.get("PATH", "")]))
        if not playbook.exists() or binary is None:
            out(f"GPU node validation not run: {'no ' + str(playbook) if not playbook.exists() else 'no ansible-playbook'}")
            return
        with tempfile.TemporaryDirectory(prefix="newinfra-validate-") as tmp:
            stack_outputs = Path(tmp) / "outputs.json"
            stack_outputs.write_text(json.dumps(outputs, sort_keys=True), encoding="utf-8")
            env = {**os.environ, "NEWINFRA_OUTPUTS": str(stack_outputs), "NEWINFRA_RESOLVE_GROUPS": "1"}
            subprocess.run([binary, "-i", "stack_inventory.py", str(playbook.relative_to(root / "ansible")),
                            "-e", f"gpu_validate_report_dir={reports_dir.resolve()}"],
                           cwd=root / "ansible", env=env, check=False)

    return run


def _default_probe(outputs: dict) -> list:
    from newinfra.deploy.gate import probe_clusters

    return probe_clusters(outputs)


def _engine(make_engine: Callable[[Path], Any], project):
    from newinfra.deploy.engine import EngineUnavailable

    try:
        return make_engine(project.root)
    except EngineUnavailable as err:
        raise Blocked(str(err), PROGRAM_ERROR) from None


def _read_log(project, env: str):
    from newinfra.deploy.log import LogError, log_path, read_log

    path = log_path(project.stack_config_dir, env)
    try:
        return path, read_log(path)
    except LogError as err:
        raise Blocked(str(err), BAD_INPUT) from None


def _deploy(engine, env: str) -> dict:
    from newinfra.deploy.engine import DeployFailed

    try:
        return engine.up(env)
    except DeployFailed as err:
        raise Blocked(f"`pulumi up` failed for stack {env!r}: {err}", PROGRAM_ERROR) from None


def run_up(env: str, *, make_engine: Callable[[Path], Any], reports_dir: Path | None = None,
           rollback_on_failure: bool = False, now: Callable[[], str] = utc_now,
           probe: Callable[[dict], list] = _default_probe, validate: Validate | None = None,
           failover: int = 0, replace: Callable[[str, list[str]], int] | None = None, out=print) -> int:
    """Preflight, `pulumi up`, log the deploy, gate it, log the verdict; a failed gate is exit 1 (after a
    rollback when asked). Nothing is deployed when the preflight, the engine or the log is not in order.
    ``failover``: after a capacity error that names locked offers, exclude them (``replace``: `newinfra place
    ENV --exclude ...`), and deploy again, at most this many times; each attempt is logged as a failed deploy."""
    from newinfra.deploy.failover import capacity_error, offers_named
    from newinfra.deploy.log import append_deploy, append_gate

    project = _project(env)
    path, _ = _read_log(project, env)  # a damaged log stops everything before the deploy
    engine = _engine(make_engine, project)
    reports = reports_dir if reports_dir is not None else project.root / DEFAULT_REPORTS
    def log_deploy(ready: Ready):
        return append_deploy(path, time=now(), kind="up", commit=git_commit(project.root),
                             config_text=ready.config_text, lock_text=ready.lock_text,
                             record_sha256=ready.record_sha256)

    retries = failover
    while True:
        ready = preflight(env, project)
        try:
            outputs = _deploy(engine, env)
            break
        except Blocked as failed:  # the engine may have changed part of the stack: logged, and never a target
            deploy = log_deploy(ready)
            append_gate(path, deploy.id, time=now(), passed=False, reasons=[str(failed)])
            named = offers_named(str(failed), json.loads(ready.lock_text)) \
                if retries > 0 and ready.lock_text and capacity_error(str(failed)) else []
            if named:
                retries -= 1
                out(f"deploy {deploy.id} of {env}: no capacity for {', '.join(named)}; re-placing without "
                    f"{'it' if len(named) == 1 else 'them'} ({failover - retries} of {failover})")
                code = (replace or _place_excluding)(env, named)
                if code != OK:
                    raise Blocked(f"stack {env!r}: `newinfra place {env} --exclude ...` after the capacity error "
                                  f"ended with exit {code}; nothing more deployed", code) from None
                continue
            if rollback_on_failure:
                out(f"deploy {deploy.id} of {env}: {failed}; rolling back")
                _rollback_after_failure(env, engine, now, probe, validate, out)
            raise
    deploy = log_deploy(ready)
    (validate or validate_with_ansible(project.root, out))(outputs, reports)
    verdict = gate(outputs, reports, probe, since=deploy.time)
    append_gate(path, deploy.id, time=now(), passed=verdict.passed, reasons=list(verdict.reasons))
    if verdict.passed:
        out(f"deploy {deploy.id} of {env}: health gate passed ({', '.join(verdict.checked)}); logged in {path}")
        return OK
    out(f"deploy {deploy.id} of {env}: health gate FAILED: {'; '.join(verdict.reasons)}")
    if rollback_on_failure:
        _rollback_after_failure(env, engine, now, probe, validate, out)
    else:
        out(f"run `newinfra rollback {env}` to redeploy the last deploy that passed its gate")
    return VIOLATION


def _place_excluding(env: str, exclude: list[str]) -> int:
    """`newinfra place ENV --exclude ...` (its exit status; its errors are said on stderr as the CLI says them)."""
    from newinfra.cli.place import _place
    from newinfra.cost_model.cli import Failure

    try:
        return _place(env, False, exclude, False, False, False)
    except Failure as err:
        print(f"newinfra place: {err}", file=sys.stderr)
        return err.code


def _rollback_after_failure(env: str, engine, now, probe, validate, out) -> None:
    """--rollback-on-failure: the deploy's own failure stays the exit status; a rollback that cannot run is
    said on its own line."""
    try:
        run_rollback(env, make_engine=lambda _root: engine, now=now, probe=probe, validate=validate, out=out)
    except Blocked as err:
        out(f"rollback not done: {err}")


def run_rollback(env: str, *, make_engine: Callable[[Path], Any], reports_dir: Path | None = None,
                 now: Callable[[], str] = utc_now, probe: Callable[[dict], list] = _default_probe,
                 validate: Validate | None = None, out=print) -> int:
    """Restore the config and lock of the last deploy whose gate passed, `pulumi up` them and log it. Gated
    only with --reports (reports written after this deploy): without, the deploy is logged with no verdict,
    so it is never itself a rollback target, and the one it restored stays the last good one."""
    from newinfra.atomic import file_lock, write_text
    from newinfra.deploy.log import LogError, NoGoodDeploy, append_deploy, append_gate, last_good, load_blob

    project = _project(env)
    path, deploys = _read_log(project, env)
    engine = _engine(make_engine, project)
    try:
        target = last_good(deploys)
        config_text = load_blob(path, target.config_sha256)
        lock_text = load_blob(path, target.lock_sha256) if target.lock_sha256 else None
    except NoGoodDeploy as err:
        raise Blocked(f"{path}: {err}", INFEASIBLE) from None
    except LogError as err:
        raise Blocked(str(err), BAD_INPUT) from None
    lock = project.lock_path(env)
    with file_lock(lock.with_name(f".{lock.name}.lock")):  # `place` takes the same lock: no write in between
        write_text(project.config_path(env), config_text)
        if lock_text is None:
            lock.unlink(missing_ok=True)
        else:
            write_text(lock, lock_text)
    out(f"{env}: restored the config and lock of deploy {target.id} ({target.time}, {target.commit})")
    record = run_offline(env, project)
    outputs = _deploy(engine, env)
    deploy = append_deploy(path, time=now(), kind="rollback", rollback_of=target.id, commit=git_commit(project.root),
                           config_text=config_text, lock_text=lock_text, record_sha256=record_sha256(record))
    if reports_dir is None:
        out(f"deploy {deploy.id} of {env}: redeployed deploy {target.id}; not gated (pass --reports with reports "
            f"written after this deploy to gate it)")
        return OK
    (validate or validate_with_ansible(project.root, out))(outputs, reports_dir)
    verdict = gate(outputs, reports_dir, probe, since=deploy.time)
    append_gate(path, deploy.id, time=now(), passed=verdict.passed, reasons=list(verdict.reasons))
    if verdict.passed:
        out(f"deploy {deploy.id} of {env}: redeployed deploy {target.id}; health gate passed")
        return OK
    out(f"deploy {deploy.id} of {env}: redeployed deploy {target.id}; health gate FAILED: "
        f"{'; '.join(verdict.reasons)}")
    return VIOLATION


def _automation(root: Path):
    from newinfra.deploy.engine import AutomationEngine

    return AutomationEngine(root, on_output=lambda line: print(line, end="" if line.endswith("\n") else "\n"))


def _exit(name: str, action: Callable[[], int]) -> None:
    try:
        code = action()
    except Blocked as err:
        print(f"newinfra {name}: {err}", file=sys.stderr)
        raise typer.Exit(err.code) from None
    raise typer.Exit(code)


Opt = typer.Option
Reports = Annotated[Path | None, Opt("--reports", help="the gpu_validate JSON reports of the new GPU nodes "
                                     "(ansible/playbooks/validate.yml; up's default: build/gpu_validate)")]


def register(app: Any) -> None:
    @app.command("up")
    def up(
        env: Annotated[str, typer.Argument(help="environment (stack), e.g. dev")],
        rollback_on_failure: Annotated[bool, Opt("--rollback-on-failure",
                                                 help="when the gate fails, roll back at once")] = False,
        yes: Annotated[bool, Opt("--yes", help="do not ask before deploying")] = False,
        reports: Reports = None,
        failover: Annotated[int, Opt("--failover", min=0, max=10,
                                     help="after a capacity error naming locked offers, re-place without them "
                                          "and deploy again, at most this many times")] = 0,
    ) -> None:
        """Preflight (lock, both policy packs, budget), `pulumi up`, health gate; every deploy is logged."""
        if not yes:
            if not sys.stdin.isatty():
                print("newinfra up: --yes is required without a terminal (nothing deployed)", file=sys.stderr)
                raise typer.Exit(BAD_INPUT)
            if not typer.confirm(f"deploy {env} with `pulumi up`?"):
                raise typer.Exit(OK)
        _exit("up", lambda: run_up(env, make_engine=_automation, reports_dir=reports,
                                   rollback_on_failure=rollback_on_failure, failover=failover))

    @app.command("rollback")
    def rollback(
        env: Annotated[str, typer.Argument(help="environment (stack), e.g. dev")],
        reports: Reports = None,
    ) -> None:
        """Redeploy the last deploy whose health gate passed (its config and lock, restored)."""
        _exit("rollback", lambda: run_rollback(env, make_engine=_automation, reports_dir=reports))
