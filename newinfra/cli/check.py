"""`newinfra check`: run a Pulumi program offline and evaluate both policy packs over what it registers.

Exit status: 1 when a mandatory violation exists, 0 otherwise, 2 for bad input (unknown environment,
missing stack file, bad policy config, a program that cannot run offline).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated, Any

import typer

DEFAULT_BASE_REF = "origin/main"


class CheckInputError(ValueError):
    """Bad input to `newinfra check`; exit status 2."""


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


def lock_diff(lock_path: Path | None, base_ref: str | None, base_lock: Path | None):
    """Current lock total vs the base branch's (``git show REF:path``) or ``base_lock``'s."""
    import json

    from newinfra.policies.report import LockDiff, lock_total

    if lock_path is None or not lock_path.is_file():
        return None
    current = lock_total(json.loads(lock_path.read_text()))
    if base_lock is not None:
        if not base_lock.is_file():
            raise CheckInputError(f"--base-lock: {base_lock} does not exist")
        return LockDiff(current, lock_total(json.loads(base_lock.read_text())))
    located = _relative_to_git(lock_path)
    if located is None:
        return LockDiff(current, None, f"{lock_path} is not in a git repository: no base lock to compare")
    root, rel = located
    ref = base_ref or DEFAULT_BASE_REF
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        if base_ref is not None:
            raise CheckInputError(f"--base-ref: {base_ref!r} is not a commit in {root}")
        return LockDiff(current, None, f"no {DEFAULT_BASE_REF} here: the change against the base lock is skipped "
                                       "(pass --base-ref or --base-lock)")
    shown = _git(root, "show", f"{ref}:{rel}")
    if shown.returncode != 0:
        return LockDiff(current, None, f"{rel} does not exist on {ref}: a new lock")
    return LockDiff(current, lock_total(json.loads(shown.stdout)))


def _record(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None):
    """(record, program dir, stack config file) for the check's inputs."""
    from newinfra.offline import OfflineError, load_record, run_program

    if env is not None and (cwd is not None or stack is not None):
        raise CheckInputError("give either ENV (newinfra's own stacks) or --cwd DIR --stack NAME, not both")
    if env is None and (cwd is None or stack is None):
        raise CheckInputError(f"give ENV (one of {environments()}) or both --cwd DIR and --stack NAME")
    if env is not None:
        if env not in environments():
            raise CheckInputError(f"ENV: {env!r} is not an environment; valid: {environments()}")
        from newinfra.project import find_project

        directory, name = find_project().root, env
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
    try:
        return run_program(directory, name), directory, name
    except OfflineError as e:
        raise CheckInputError(f"the program in {directory} cannot run offline for stack {name!r}: {e}") from e
    except Exception as e:  # noqa: BLE001 - the program's own error is the user's input error
        raise CheckInputError(f"the program in {directory} failed for stack {name!r}: "
                              f"{type(e).__name__}: {e}") from e


def _stack_file(directory: Path, stack: str) -> Path:
    import yaml

    project = yaml.safe_load((directory / "Pulumi.yaml").read_text()) or {}
    return directory / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def run_check(env: str | None, cwd: Path | None, stack: str | None, *, as_json: bool = False,
              markdown_path: Path | None = None, sarif_path: Path | None = None,
              policy_config: Path | None = None, base_ref: str | None = None, base_lock: Path | None = None,
              record_dir: Path | None = None) -> int:
    from rich.console import Console

    from newinfra.policies import report
    from newinfra.policies.config import PolicyConfigError, read_policy_config, stack_value
    from newinfra.policies.runner import evaluate
    from newinfra.project import ProjectError, read_project_file

    try:
        user_config = read_policy_config(policy_config) if policy_config else None
        record, directory, name = _record(env, cwd, stack, record_dir)
        ev = evaluate(record.resources, record.config, project=record.project, stack=record.stack,
                      policy_config=user_config)
        lock = lock_diff(read_project_file(directory / "Pulumi.yaml").lock_path(name), base_ref, base_lock)
    except (CheckInputError, PolicyConfigError, ProjectError) as e:
        typer.echo(f"newinfra check: {e}", err=True)
        return 2
    est = report.cost_estimate(record.resources, record.config)
    budget = stack_value(record.config, "monthlyBudgetUsd")
    if markdown_path is not None:
        markdown_path.write_text(report.comment([report.markdown(ev, est, lock, budget)]))
    if sarif_path is not None:
        stack_file = _stack_file(directory, name)
        located = _relative_to_git(stack_file)
        artifact = located[1] if located else stack_file.name
        sarif_path.write_text(report.dumps(report.sarif(ev, artifact)))
    if as_json:
        typer.echo(report.dumps(report.payload(ev, est, lock)), nl=False)
    else:
        console = Console(width=160)
        if ev.violations:
            console.print(report.table(ev, est))
        console.print(report.summary(ev, est))
    return 0 if ev.passed else 1


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
    ) -> None:
        """Evaluate the budget and data-security packs offline (no credentials, no Pulumi CLI)."""
        raise typer.Exit(run_check(env, cwd, stack, as_json=as_json, markdown_path=markdown, sarif_path=sarif,
                                   policy_config=policy_config, base_ref=base_ref, base_lock=base_lock,
                                   record_dir=record))
