"""`newinfra report`: one self-contained HTML page of a stack (see newinfra/report/).

    newinfra report ENV | --cwd DIR --stack NAME  [--record DIR] [--lock FILE] [--out FILE]
                    [--base-record DIR] [--base-lock FILE]

Exit 0 when written; 2 on bad input (a record of another stack or project than the lock, a base record of
another project or stack, an unwritable --out, a damaged lock, no Graphviz `dot`): one line naming the file
and the mismatch, nothing written; 4 when the program fails. Findings do not change the exit status: the
page shows them, `newinfra check` gates on them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from newinfra import exits

_URN = re.compile(r"^urn:pulumi:([^:]+)::([^:]+)::")


class ReportInputError(ValueError):
    """Bad input to `newinfra report`; exit status 2. The message names the file and the mismatch."""


def lock_owner(doc: dict | None, path: Path) -> tuple[str, str | None]:
    """(stack, project) a lock belongs to: from the URNs of its bill (written by `place` from the stack's own
    record), else the stack from its file name (placements/<stack>.json) and no project."""
    owners = sorted({m.groups() for urn in ((doc or {}).get("bill") or {}) if (m := _URN.match(str(urn)))})
    if len(owners) > 1:
        raise ReportInputError(f"{path}: its bill names resources of several stacks {owners}: not one stack's lock")
    if owners:
        stack, project = owners[0]
        return str(stack), str(project)
    return path.stem, None


def check_same_stack(record: Any, record_label: str, doc: dict | None, lock_path: Path) -> None:
    stack, project = lock_owner(doc, lock_path)
    if stack != record.stack or (project is not None and project != record.project):
        raise ReportInputError(
            f"{lock_path}: is the lock of stack {stack!r}{f' of project {project!r}' if project else ''}, but "
            f"the record {record_label} is of stack {record.stack!r} of project {record.project!r}: give the "
            f"record and the lock of one stack")


def load_base_record(path: Path, record: Any):
    from newinfra.offline import load_record

    try:
        base = load_record(path)
    except FileNotFoundError as e:
        raise ReportInputError(f"--base-record: {e}") from None
    except (ValueError, OSError) as e:
        raise ReportInputError(f"--base-record: {path} is damaged ({type(e).__name__}: "
                               f"{' '.join(str(e).split())[:160]})") from None
    if base.project != record.project:
        raise ReportInputError(f"--base-record: {path} is a record of project {base.project!r}, not "
                               f"{record.project!r}: give the base branch's record of the same project")
    if base.stack != record.stack:
        raise ReportInputError(f"--base-record: {path} is a record of stack {base.stack!r}, not {record.stack!r}: "
                               "give the base branch's record of the same stack")
    return base


def explain(project: Any, name: str, doc: dict | None) -> tuple[dict | None, str | None]:
    """Savings against the baselines and the binding constraints of the locked plan, as `newinfra place`
    computes them (the same churn rules over the lock), or (None, why not)."""
    from newinfra.config import ConfigError, load_env_config
    from newinfra.cost_model.catalog import load_catalog
    from newinfra.cost_model.exclusions import parse_exclusions
    from newinfra.cost_model.explain import baselines, binding_constraints
    from newinfra.cost_model.lock import plan, stale_reasons
    from newinfra.cost_model.model import Infeasible, SolverLimit

    if not doc:
        return None, None
    try:
        cfg = load_env_config(name, project)
    except ConfigError as e:
        return None, f"Savings and binding constraints: not computed ({' '.join(str(e).split())[:200]})."
    catalog = load_catalog()
    stale = stale_reasons(cfg.request, doc, catalog)
    if stale:
        return None, f"Savings and binding constraints: not computed, the lock is stale ({'; '.join(stale)})."
    exclusions = tuple(parse_exclusions(doc.get("exclusions") or []))
    try:
        sol = plan(cfg.request, catalog, previous=doc, exclusions=exclusions, threshold=cfg.replan_threshold,
                   production=cfg.profile == "production").solution
    except (Infeasible, SolverLimit) as e:
        return None, f"Savings and binding constraints: not computed ({' '.join(str(e).split())[:200]})."
    base = baselines(cfg.request, catalog, sol, exclusions)
    return {"placementsUsd": round(sol.monthly_usd, 2), "homeOnDemandUsd": base.home_on_demand,
            "homeMissing": list(base.home_missing), "unconstrainedUsd": base.unconstrained,
            "binding": binding_constraints(sol), "notes": []}, None


def build_report(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None,
                 lock_file: Path | None, base_record: Path | None, base_lock: Path | None) -> tuple[dict, str]:
    """(the report's data, its default output name) — every input read and cross-checked; no file written."""
    from newinfra.cli.check import (
        _record,
        _record_malformed,
        check_lock_content,
        left_out_violations,
        not_inspected,
    )
    from newinfra.cost_model.lock import BadLock, StaleLock, read_lock
    from newinfra.policies import report as check_report
    from newinfra.policies.runner import evaluate
    from newinfra.project import read_project_file
    from newinfra.props import cloud_of
    from newinfra.record import resource_regions
    from newinfra.report import data

    record, directory, name = _record(env, cwd, stack, record_dir)
    label = str(record_dir) if record_dir is not None else f"of the program in {directory}"
    malformed = _record_malformed(record)
    if malformed:
        raise ReportInputError(f"--record: {record_dir} is damaged ({malformed}); run `newinfra plan` again")
    project = read_project_file(directory / "Pulumi.yaml")
    path = lock_file or project.lock_path(name)
    if lock_file is not None and not lock_file.is_file():
        raise ReportInputError(f"--lock: {lock_file} does not exist")
    try:
        doc = read_lock(path) if path.is_file() else None
    except (BadLock, StaleLock) as e:
        raise ReportInputError(str(e)) from None
    if doc is not None:
        check_same_stack(record, label, doc, path)
        if lock_file is None:
            check_lock_content(project, name, path)
    base, base_label = None, None
    if base_record is not None:
        old = load_base_record(base_record, record)
        base = {p.urn: p.monthly_usd for p in check_report.stack_bill(old).priced}
        base_label = f"base record {base_record}"
    elif base_lock is not None:
        if not base_lock.is_file():
            raise ReportInputError(f"--base-lock: {base_lock} does not exist")
        try:
            base_doc = read_lock(base_lock)
        except (BadLock, StaleLock) as e:
            raise ReportInputError(f"--base-lock: {e}") from None
        check_same_stack(record, label, base_doc, base_lock)
        base = check_report.lock_resources(base_doc)
        if base is None:
            raise ReportInputError(f"--base-lock: {base_lock} has no bill (written before `place` priced the "
                                   "whole bill): give a base record instead (--base-record)")
        base_label = f"base lock {base_lock}"
    ev = evaluate(record.resources, record.config, project=record.project, stack=record.stack)
    ev.violations = sorted(ev.violations + (left_out_violations(project, name, path) if doc else []))
    not_inspected(ev, record)
    bill = check_report.stack_bill(record, ev.settings.get("monthly-budget", {}))
    explanation, note = explain(project, name, doc) if lock_file is None else \
        (None, "Savings and binding constraints: computed for the stack's own lock only (not with --lock).")
    d = data.build(record, bill, ev.violations, doc, regions=resource_regions(record),
                   clouds={r["urn"]: cloud_of(r["type"]) or "" for r in record.resources},
                   lock_path=str(path) if doc is not None else None, base=base, base_label=base_label,
                   explanation=explanation, explanation_note=note,
                   record_path=str(record_dir) if record_dir is not None else None)
    return d, str(project.root / "build" / f"report-{name}.html")


def run_report(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None, lock_file: Path | None,
               out: Path | None, base_record: Path | None, base_lock: Path | None) -> int:
    from newinfra.atomic import write_text
    from newinfra.cli.check import CheckInputError, ProgramFailed
    from newinfra.project import ProjectError
    from newinfra.report.graph import DotMissing
    from newinfra.report.page import render

    if base_record is not None and base_lock is not None:
        typer.echo("newinfra report: give --base-record or --base-lock, not both", err=True)
        return exits.BAD_INPUT
    if out is not None and out.is_dir():
        typer.echo(f"newinfra report: --out: {out} is a directory; give a file name (e.g. {out}/report.html)",
                   err=True)
        return exits.BAD_INPUT
    try:
        d, default_out = build_report(env, cwd, stack, record_dir, lock_file, base_record, base_lock)
        html = render(d)
    except (CheckInputError, ReportInputError, ProjectError, DotMissing) as e:
        typer.echo(f"newinfra report: {e}", err=True)
        return exits.BAD_INPUT
    except ProgramFailed as e:
        typer.echo(f"newinfra report: {e}", err=True)
        return exits.PROGRAM_ERROR
    target = out if out is not None else Path(default_out)
    try:
        write_text(target, html)  # a temp file renamed over the target: never a partial page
    except OSError as e:
        typer.echo(f"newinfra report: --out: {target}: cannot write ({e.strerror or type(e).__name__}); give a "
                   "writable path", err=True)
        return exits.BAD_INPUT
    typer.echo(f"wrote {target} ({len(html.encode()):,} bytes): {d['totals']['monthlyUsd']:,.2f} USD/month, "
               f"{sum(d['counts'].values())} finding(s), {len(d['table'])} resources")
    return exits.OK


Opt = typer.Option


def register(app: Any) -> None:
    @app.command("report")
    def report(
        env: Annotated[str | None, typer.Argument(help="newinfra environment (a stacks/Pulumi.ENV.yaml)")] = None,
        cwd: Annotated[Path | None, Opt("--cwd", help="another Pulumi Python program's directory")] = None,
        stack: Annotated[str | None, Opt("--stack", help="its stack (Pulumi.STACK.yaml)")] = None,
        record: Annotated[Path | None, Opt(
            "--record", help="a record directory (newinfra plan's build/ENV) instead of running the program")] = None,
        lock: Annotated[Path | None, Opt("--lock", help="a placement lock other than the stack's own")] = None,
        out: Annotated[Path | None, Opt("--out", help="the HTML file (default build/report-ENV.html)")] = None,
        base_record: Annotated[Path | None, Opt("--base-record", help="the base branch's record directory")] = None,
        base_lock: Annotated[Path | None, Opt("--base-lock", help="the base branch's placement lock")] = None,
    ) -> None:
        """Write one self-contained HTML page: the bill, the placements, the resource graph with findings."""
        raise typer.Exit(run_report(env, cwd, stack, record, lock, out, base_record, base_lock))
