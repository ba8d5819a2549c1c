"""`newinfra check`: run a Pulumi program offline and evaluate both policy packs over what it registers.

Exit status (newinfra/exits.py): 1 when a mandatory violation exists, 0 otherwise, 2 for bad input
(unknown environment, missing or malformed Pulumi.yaml / stack file, bad policy config, a damaged --record or
lock), 4 when the program raises or cannot run offline. With --markdown, an error still writes the
environment's section of the pull-request comment (❌ and the message), so the environment never vanishes.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

from newinfra.atomic import write_text as atomic_write
from newinfra.exits import BAD_INPUT, OK, PROGRAM_ERROR, VIOLATION

DEFAULT_BASE_REF = "origin/main"


class CheckInputError(ValueError):
    """Bad input to `newinfra check`; exit status 2."""


class ProgramFailed(RuntimeError):
    """The checked program raised or cannot run offline; exit status 4 (never read as a verdict)."""


def environments(root: Path | None = None) -> list[str]:
    """Stacks of the project at or above ``root`` (default: the current directory)."""
    from newinfra.project import ProjectError, find_project

    try:
        return find_project(root).stacks()
    except ProjectError:
        return []


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)


def _relative_to_git(path: Path) -> tuple[Path, str] | None:
    top = _git(path.parent if path.parent.exists() else Path.cwd(), "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return None
    root = Path(top.stdout.strip())
    try:
        return root, path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def check_lock_content(project, stack: str, lock_path: Path) -> None:
    """Raise CheckInputError for a lock whose hashes match the config and catalog but whose content was edited:
    the figures of a pull-request comment never come from an edited lock."""
    from newinfra.config import ConfigError, load_env_config
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.lock import InvalidLock, StaleLock, read_lock, review_lock, stale_reasons

    if not lock_path.is_file():
        return
    try:
        cfg = load_env_config(stack, project)
    except ConfigError:
        return
    catalog = load_catalog()
    try:
        doc = read_lock(lock_path)
    except StaleLock as err:
        raise CheckInputError(str(err)) from None
    if isinstance(doc, dict) and not stale_reasons(cfg.request, doc, catalog):
        problems = review_lock(cfg.request, doc, catalog).problems
        if problems:
            raise CheckInputError(str(InvalidLock(f"{lock_path}: the lock breaks the config or the catalog: "
                                                  f"{'; '.join(problems)}; run `newinfra place {stack}`")))


LEFT_OUT_POLICY = "workload-left-out"


def left_out_violations(project, stack: str, lock_path: Path) -> list:
    """A mandatory finding per workload the lock leaves out under the production profile, with what serving
    it costs. A check-level finding, not a pack rule: the packs see resources, and a left-out workload is
    the absence of resources; the lock says which (the same program runs unchanged under the real engine)."""
    from newinfra.config import ConfigError, load_env_config
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.lock import StaleLock, read_lock
    from newinfra.cost_model.model import Infeasible, solve
    from newinfra.policies.runner import Violation

    if not lock_path.is_file():
        return []
    try:
        cfg = load_env_config(stack, project)
    except ConfigError:
        return []
    try:
        doc = read_lock(lock_path)
    except StaleLock as err:
        raise CheckInputError(str(err)) from None
    if cfg.profile != "production" or not isinstance(doc, dict) or not isinstance(doc.get("leftOut"), list):
        return []
    catalog = load_catalog()
    wanted = {w.name: w for w in cfg.request.workloads}
    out = []
    for entry in doc["leftOut"]:
        w = wanted.get(str(entry.get("workload"))) if isinstance(entry, dict) else None
        if w is None:
            continue
        alone = cfg.request.model_copy(update={"workloads": (w,), "monthly_budget_usd": None})
        try:
            cost = f"serving it costs ${solve(alone, catalog, diagnose=False).monthly_usd:,.2f}/month"
        except Infeasible:
            cost = "no placement serves it alone either"
        out.append(Violation("budget", LEFT_OUT_POLICY, f"{lock_path.name}#{w.name}",
                             f"workload {w.name!r} (priority {w.priority}) is left out of the production lock "
                             f"{lock_path.name}: {entry.get('reason', '')}; {cost}. Fix: raise monthlyBudgetUsd "
                             f"or the quotas, or remove the workload from the config.", "mandatory", w.name,
                             "newinfra:placement-lock"))
    return out


def lock_diff(lock_path: Path | None, base_ref: str | None, base_lock: Path | None):
    """The lock's bill here vs the base branch's (``git show REF:path``) or ``base_lock``'s: totals and the
    base's bill per resource. A lock's bill is what `newinfra place` priced from the program's record."""
    from newinfra.cost_model.lock import BadLock, parse_lock, read_lock
    from newinfra.policies.report import LockDiff, lock_resources, lock_total

    if lock_path is None or not lock_path.is_file():
        return None

    def base(doc) -> LockDiff:
        return LockDiff(current, lock_total(doc), base_resources=lock_resources(doc))

    try:
        current = lock_total(read_lock(lock_path))
        if base_lock is not None:
            if not base_lock.is_file():
                raise CheckInputError(f"--base-lock: {base_lock} does not exist")
            return base(read_lock(base_lock))
        located = _relative_to_git(lock_path)
        if located is None:
            return LockDiff(current, None, f"{lock_path} is not in a git repository: no base lock to compare")
        root, rel = located
        ref = base_ref or DEFAULT_BASE_REF
        if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
            if base_ref is not None:
                raise CheckInputError(f"--base-ref: {base_ref!r} is not a commit in {root}")
            return LockDiff(current, None, f"no {DEFAULT_BASE_REF} here: the change against the base lock is "
                                           "skipped (pass --base-ref or --base-lock)")
        shown = _git(root, "show", f"{ref}:{rel}")
        if shown.returncode != 0:
            return LockDiff(current, None, f"{rel} does not exist on {ref}: a new lock")
        return base(parse_lock(shown.stdout, Path(f"{ref}:{rel}")))
    except BadLock as err:
        raise CheckInputError(str(err)) from None


def _record(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None,
            preview: bool = True):
    """(record, program dir, stack config file) for the check's inputs."""
    from newinfra.offline import OfflineError, load_record, run_program

    if env is not None and (cwd is not None or stack is not None):
        raise CheckInputError("give either ENV (newinfra's own stacks) or --cwd DIR --stack NAME, not both")
    if env is None and (cwd is None or stack is None):
        raise CheckInputError(f"give ENV (one of {environments()}) or both --cwd DIR and --stack NAME")
    if env is not None:
        if env not in environments():
            raise CheckInputError(f"ENV: {env!r} is not an environment; valid: {environments()}")
        from newinfra.cli.plan import check_lock
        from newinfra.config import ConfigError, load_env_config
        from newinfra.project import find_project

        try:  # every config error, and a lock that breaks the config, as one line before the program runs
            project = find_project()
            check_lock(load_env_config(env, project), project.lock_path(env))
        except ConfigError as e:
            raise CheckInputError(str(e)) from None
        directory, name = project.root, env
    else:
        assert cwd is not None and stack is not None  # checked above: without ENV both are given
        directory, name = cwd.resolve(), stack
        if not (directory / "Pulumi.yaml").is_file():
            raise CheckInputError(f"--cwd: {directory} has no Pulumi.yaml")
    if record_dir is not None:
        try:
            return load_record(record_dir), directory, name
        except FileNotFoundError as e:
            raise CheckInputError(f"--record: {e}") from e
        except (ValueError, OSError, AttributeError, TypeError) as e:  # truncated or hand-edited: JSON, UTF-8, shapes
            raise CheckInputError(f"--record: {record_dir} is damaged ({type(e).__name__}: "
                                  f"{' '.join(str(e).split())[:200]}); run `newinfra plan` again") from e
    from newinfra.offline.engine import ProjectFileError

    try:
        return run_program(directory, name, preview=preview), directory, name
    except ProjectFileError as e:  # Pulumi.yaml or the stack file: the user's input
        raise CheckInputError(str(e)) from e
    except OfflineError as e:  # the program raised, or needs what the offline engine cannot give
        raise ProgramFailed(f"stack {name!r}: {e}") from e
    except Exception as e:  # noqa: BLE001 - the program's own error, however the SDK surfaced it
        raise ProgramFailed(f"the program in {directory} failed for stack {name!r}: "
                            f"{type(e).__name__}: {' '.join(str(e).split())}") from e


def _stack_file(directory: Path, stack: str) -> Path:
    from newinfra.project import read_project_file

    return read_project_file(directory / "Pulumi.yaml").config_path(stack)


def run_check(env: str | None, cwd: Path | None, stack: str | None, *, as_json: bool = False,
              markdown_path: Path | None = None, sarif_path: Path | None = None,
              policy_config: Path | None = None, base_ref: str | None = None, base_lock: Path | None = None,
              record_dir: Path | None = None, preview: bool = True) -> int:
    from newinfra.cli.progress import Steps

    with Steps("check", enabled=not as_json) as progress:
        try:
            return _run_check(env, cwd, stack, as_json=as_json, markdown_path=markdown_path,
                              sarif_path=sarif_path, policy_config=policy_config, base_ref=base_ref,
                              base_lock=base_lock, record_dir=record_dir, preview=preview, progress=progress)
        except (CheckInputError, ProgramFailed) as e:
            progress.stop()
            code = PROGRAM_ERROR if isinstance(e, ProgramFailed) else BAD_INPUT
            if as_json and code == PROGRAM_ERROR:
                from newinfra.policies import report

                typer.echo(report.dumps({"error": {"kind": "program", "message": str(e)}}), nl=False)
            typer.echo(f"newinfra check: {e}", err=True)
            if markdown_path is not None:
                from newinfra.policies import report

                atomic_write(markdown_path, report.comment([report.error_markdown(env or stack or "?", code, str(e))]))
            return code


def _record_malformed(record) -> str | None:
    """Why a loaded record cannot be checked (wrong JSON shapes), or None."""
    if not isinstance(record.resources, list) or not all(
            isinstance(r, dict) and isinstance(r.get("urn"), str) and isinstance(r.get("type"), str)
            for r in record.resources):
        return "resources.json is not a list of resources with urn and type"
    if not isinstance(record.outputs, dict) or not isinstance(record.config, dict):
        return "outputs.json or config.json is not a JSON object"
    return None


def _run_check(env: str | None, cwd: Path | None, stack: str | None, *, as_json: bool,
               markdown_path: Path | None, sarif_path: Path | None, policy_config: Path | None,
               base_ref: str | None, base_lock: Path | None, record_dir: Path | None, preview: bool,
               progress) -> int:
    from rich.console import Console

    from newinfra.policies import report
    from newinfra.policies.config import PolicyConfigError, read_policy_config, stack_value
    from newinfra.policies.runner import evaluate
    from newinfra.project import ProjectError, read_project_file

    try:
        user_config = read_policy_config(policy_config) if policy_config else None
        progress.step("reading the record" if record_dir else "running the program offline")
        record, directory, name = _record(env, cwd, stack, record_dir, preview)
        malformed = _record_malformed(record)
        if malformed:
            raise CheckInputError(f"--record: {record_dir} is damaged ({malformed}); run `newinfra plan` again")
        progress.step("evaluating the policy packs")
        ev = evaluate(record.resources, record.config, project=record.project, stack=record.stack,
                      policy_config=user_config)
        project = read_project_file(directory / "Pulumi.yaml")
        path = project.lock_path(name)
        check_lock_content(project, name, path)
        lock = lock_diff(path, base_ref, base_lock)
        ev.violations = sorted(ev.violations + left_out_violations(project, name, path))
    except (PolicyConfigError, ProjectError) as e:
        raise CheckInputError(str(e)) from e
    not_inspected(ev, record)
    settings = ev.settings.get("monthly-budget", {})
    bill = report.stack_bill(record, settings)
    from newinfra.policies.rules.budget.cost import figure

    budget_figure = figure(bill, settings)
    if lock is not None and lock.current_usd is not None and lock.current_usd != bill.monthly_usd:
        lock = dataclasses.replace(lock, note=" ".join(filter(None, [lock.note, (
            f"{path.name} says ${lock.current_usd:,.2f}/month, this program's bill is "
            f"${bill.monthly_usd:,.2f}: run `newinfra place {name}` to bring the lock up to date.")])))
    budget = settings.get("monthlyBudgetUsd", stack_value(record.config, "monthlyBudgetUsd"))
    progress.stop()
    if markdown_path is not None:
        atomic_write(markdown_path, report.comment([report.markdown(ev, bill, lock, budget, prices=_prices())]))
    if sarif_path is not None:
        stack_file = _stack_file(directory, name)
        located = _relative_to_git(stack_file)
        artifact = located[1] if located else stack_file.name
        atomic_write(sarif_path, report.dumps(report.sarif(ev, artifact)))
    if as_json:
        typer.echo(report.dumps(report.payload(ev, bill, budget_figure, lock)), nl=False)
    else:
        console = Console()  # the terminal's width; the table folds long cells
        if ev.violations:
            console.print(report.table(ev))
        console.print(report.summary(ev, bill))
        line = coverage_line(record)
        if line:
            console.print(line)
    return OK if ev.passed else VIOLATION


def _prices() -> str | None:
    """The catalog the bill priced accelerators with, for the comment (the bill's price date is beside it)."""
    from newinfra.cost_model.catalog.prices import catalog_version

    return catalog_version()


REMOTE_ADVICE = ("is a multi-language component: its resources are created by its own plugin, which the offline "
                 "engine does not run, so no policy judged them. Judge it with a real `pulumi preview "
                 "--policy-pack`.")


def coverage_line(record: Any) -> str | None:
    """'27 of 28 resources judged; not inspected: eks:index:Cluster', when remote components exist."""
    remote = sorted({r["type"] for r in record.resources if r.get("remote")})
    if not remote:
        return None
    judged = sum(1 for r in record.resources if not r.get("remote"))
    return f"{judged} of {len(record.resources)} resources judged; not inspected: {', '.join(remote)}"


def not_inspected(ev: Any, record: Any) -> None:
    """One advisory finding per remote component, so a reviewer cannot read silence as a pass."""
    from newinfra.policies.runner import Violation

    for r in record.resources:
        if r.get("remote"):
            ev.violations.append(Violation("newinfra", "not-inspected", r["urn"], f"'{r['name']}' ({r['type']}) "
                                           f"{REMOTE_ADVICE}", "advisory", r["name"], r["type"]))
    ev.violations.sort()


Opt = typer.Option


def register(app: Any) -> None:
    @app.command("check")
    def check(
        env: Annotated[str | None, typer.Argument(help="newinfra environment (a stacks/Pulumi.ENV.yaml)")] = None,
        cwd: Annotated[Path | None, Opt("--cwd", help="another Pulumi Python program's directory")] = None,
        stack: Annotated[str | None, Opt("--stack", help="its stack (Pulumi.STACK.yaml)")] = None,
        as_json: Annotated[bool, Opt("--json", help="print {\"violations\": [...], ...} as JSON")] = False,
        markdown: Annotated[Path | None, Opt("--markdown", help="write a pull-request comment here")] = None,
        sarif: Annotated[Path | None, Opt("--sarif", help="write SARIF 2.1.0 for code scanning here")] = None,
        policy_config: Annotated[Path | None, Opt(
            "--policy-config", help="levels and settings, in pulumi's --policy-pack-config format")] = None,
        base_ref: Annotated[str | None, Opt("--base-ref", help="base branch ref (default origin/main)")] = None,
        base_lock: Annotated[Path | None, Opt("--base-lock", help="the base branch's placement lock")] = None,
        record: Annotated[Path | None, Opt(
            "--record", help="a record directory (newinfra plan's build/ENV) instead of running the program")] = None,
        up: Annotated[bool, Opt("--up", help="emulate `pulumi up` instead of `pulumi preview`")] = False,
    ) -> None:
        """Evaluate the budget and data-security packs offline (no credentials, no Pulumi CLI)."""
        raise typer.Exit(run_check(env, cwd, stack, as_json=as_json, markdown_path=markdown, sarif_path=sarif,
                                   policy_config=policy_config, base_ref=base_ref, base_lock=base_lock,
                                   record_dir=record, preview=not up))
