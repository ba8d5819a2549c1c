"""`newinfra place ENV`: solve the environment's workloads, explain the choice, write the lock.

Exit codes: 0 solved, 2 bad input (config, catalog, --exclude), 3 infeasible — including, under the
production profile without --accept, a plan that shrinks the previous lock (a workload left out, fewer
nodes, a pool removed): the locked capacity cannot be kept with this config, so nothing is written and the
message names each workload, what changes and its monthly cost. Every check runs before anything is written.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from newinfra.cost_model.cli import Failure, checked, load_catalog_checked, pools_json, solver_json
from newinfra.exits import BAD_INPUT as EXIT_BAD_INPUT
from newinfra.exits import INFEASIBLE as EXIT_INFEASIBLE
from newinfra.exits import OK, SOLVER_LIMIT


def place(
    env: Annotated[str, typer.Argument(help="environment (stack), e.g. dev")],
    accept: Annotated[bool, typer.Option("--accept", help="production profile: let workloads move, or shrink "
                                         "(left out, fewer nodes, a pool removed)")] = False,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="CLOUD/REGION[/ZONE][:TYPE] to leave out after a capacity error (repeatable)")] = None,
    reset_exclusions: Annotated[bool, typer.Option(
        "--reset-exclusions", help="forget the exclusions recorded in the lock")] = False,
    live: Annotated[bool, typer.Option("--live", help="AWS offerings, spot prices and quotas via boto3")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Choose cloud, region, zone, instance type, nodes and market per workload; write the lock."""
    try:
        code = _place(env, accept, exclude or [], reset_exclusions, live, as_json, progress=_progress(as_json))
    except Failure as f:
        typer.echo(f"error: {f}", err=True)
        raise typer.Exit(f.code) from None
    raise typer.Exit(code)


def _progress(as_json: bool):
    from newinfra.cli.progress import Steps

    return Steps("place", enabled=not as_json)


def _place(env: str, accept: bool, exclude: list[str], reset: bool, live: bool, as_json: bool,
           progress=None) -> int:
    """Read the lock, solve and write it under an exclusive file lock (a `.ENV.json.lock` beside it): two
    `place` runs at once take turns, so the second sees the first's lock and neither writes over the other."""
    from newinfra.atomic import file_lock
    from newinfra.cli.progress import Steps
    from newinfra.config import ConfigError, config_notes, load_env_config, lock_path

    progress = progress or Steps("place", enabled=False)
    with progress:
        progress.step("reading the config")
        try:
            cfg = load_env_config(env)
        except ConfigError as err:
            raise Failure(str(err), EXIT_BAD_INPUT) from None
        for note in config_notes(cfg):
            print(f"note: {note}", file=sys.stderr)
        path = lock_path(env)
        with file_lock(path.with_name(f".{path.name}.lock")):
            return _place_locked(env, cfg, accept, exclude, reset, live, as_json, progress)


def _place_locked(env: str, cfg, accept: bool, exclude: list[str], reset: bool, live: bool, as_json: bool,
                  progress) -> int:
    from newinfra.config import lock_path
    from newinfra.cost_model.exclusions import parse_exclusions, unknown_targets
    from newinfra.cost_model.explain import alternatives, baselines, binding_constraints, failover, report
    from newinfra.cost_model.lock import (
        BadLock,
        StaleLock,
        lock_document,
        plan,
        read_lock,
        review_lock,
        shrinks,
        stale_reasons,
    )
    from newinfra.cost_model.model import Infeasible, SolverLimit

    try:
        new_exclusions = parse_exclusions(exclude)
    except ValueError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    progress.step("loading the catalog")
    base = load_catalog_checked()
    problems = unknown_targets(new_exclusions, base)
    if problems:
        raise Failure("\n".join(problems), EXIT_BAD_INPUT)
    request = cfg.request
    checked(request, base)
    path = lock_path(env)
    try:
        previous = read_lock(path)
    except BadLock as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    except StaleLock as err:
        print(f"warning: {err}; planning from scratch", file=sys.stderr)
        previous = None
    locked_before = previous  # what production must not lose silently, even when the lock is re-planned
    if previous is not None and not stale_reasons(request, previous, base):
        # The hashes say "up to date" but the content was edited: say what is wrong, then re-plan from scratch
        # (an edited lock is never a basis for keeping placements).
        fixed = review_lock(request, previous, base).problems
        for line in fixed:
            print(f"fixing {path}: {line}", file=sys.stderr)
        if fixed:
            previous = {**previous, "workloads": {}}
    old = () if reset or not previous else parse_exclusions(previous.get("exclusions", []))
    exclusions = tuple(sorted(set(old) | set(new_exclusions)))
    cat, solve_request_ = base, request
    if live:
        cat, solve_request_ = _live(base, request)
    progress.step("solving")
    try:
        result = plan(solve_request_, cat, previous=previous, exclusions=exclusions,
                      threshold=cfg.replan_threshold, production=cfg.profile == "production",
                      accept=accept)
    except Infeasible as err:
        raise Failure(f"infeasible: {err}", EXIT_INFEASIBLE) from None
    except SolverLimit as err:
        raise Failure(f"no plan: {err}", SOLVER_LIMIT) from None
    sol = result.solution
    if cfg.profile == "production" and not accept:
        lost = shrinks(locked_before, sol, request, base)
        if lost:
            raise Failure(f"{path}: the production profile does not shrink without --accept; keeping the locked "
                          f"placements is infeasible with this config: {'; '.join(lost)} (nothing written; "
                          f"rerun with --accept to write it)", EXIT_INFEASIBLE)
    progress.step("comparing alternatives and writing the lock")
    doc = lock_document(request, base, sol, exclusions, alternatives(solve_request_, cat, sol, exclusions=exclusions),
                        failover(solve_request_, cat, sol, exclusions=exclusions))
    doc["live"] = live
    progress.step("pricing the program's whole bill")
    written, bill = _write_with_bill(env, path, doc)
    progress.stop()
    if as_json:
        print(json.dumps({**pools_json(sol), "lock": str(path), "lockWritten": written, "held": result.held,
                          "moved": result.moved, "bill": bill.totals.to_dict() if bill is not None else None,
                          "solver": solver_json(sol)},
                         indent=2, sort_keys=True))
        return OK
    lock_line = f"{'wrote' if written else 'unchanged'} {path}"
    lines = report(env, sol, baselines(solve_request_, cat, sol, exclusions), binding_constraints(sol),
                   held=result.held, moved=result.moved, notes=result.notes, lock_line=lock_line,
                   exclusions=exclusions)
    print("\n".join(lines))
    print(bill_line(bill))
    return OK


def bill_line(bill) -> str:
    if bill is None:
        return ("whole bill: not priced: this project has no program (Pulumi.yaml's main), so the lock carries the "
                "solver's figures only (totals.placementsUsdPerMonth)")
    t = bill.totals
    return (f"whole bill (the lock's totals.monthlyUsd; `check`, `plan` and the PR comment give the same): "
            f"${t.monthly_usd:,.2f}/month at desired size, ${t.max_monthly_usd:,.2f} at max size, of which egress "
            f"${t.egress_usd:,.2f} and accelerators ${t.accelerator_usd:,.2f}; prices as of {t.price_date or 'n/a'}; "
            f"{len(bill.unpriced)} unpriced (`newinfra cost {bill.stack}` lists them)")


def program_bill(env: str):
    """The whole bill of the project's program for ``env``, run offline (as `pulumi preview`) over the lock
    just written; None for a project without a program (configs and locks only: nothing to bill). Raises
    ProgramFailed when the program raises or cannot run offline."""
    from newinfra.cost_model.pricebook.bill import price_record
    from newinfra.offline import run_program
    from newinfra.offline.engine import ProgramMissing
    from newinfra.project import find_project

    try:
        record = run_program(find_project().root, env, preview=True)
    except ProgramMissing:
        return None
    except Exception as err:  # noqa: BLE001 - the program's own error, however the SDK surfaced it
        raise ProgramFailed(f"{type(err).__name__}: {' '.join(str(err).split())[:500]}") from err
    return price_record(record)


class ProgramFailed(RuntimeError):
    """The program failed while `place` priced its bill (exit 4)."""


def _write_with_bill(env: str, path, doc: dict):
    """Write the solver's lock, run the program over it, and write the lock again with its whole bill
    (`lock.with_bill`). If the program fails, the lock as it was is put back: nothing is written (exit 4).
    Returns (whether the lock's bytes changed, the bill)."""
    from newinfra.atomic import write_text
    from newinfra.cost_model.lock import read_lock, render, with_bill, without_bill, write_if_changed
    from newinfra.exits import PROGRAM_ERROR

    before = path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        old = read_lock(path) if before is not None else None
    except ValueError:  # not a lock place can read: replaced whole
        old = None
    if without_bill(old) != doc:
        write_if_changed(path, doc)  # the program reads the placements from the lock
    try:
        bill = program_bill(env)
    except BaseException as err:  # whatever stopped it, the lock goes back to what it was
        if before is None:
            path.unlink(missing_ok=True)
        elif path.read_text(encoding="utf-8") != before:
            write_text(path, before)
        if isinstance(err, ProgramFailed):
            raise Failure(f"{path}: not written: the program failed for stack {env!r} while pricing its whole "
                          f"bill: {err}", PROGRAM_ERROR) from None
        raise
    final = with_bill(doc, bill) if bill is not None else doc
    write_if_changed(path, final)
    return render(final) != before, bill


def _live(base, request):
    """AWS regions the request could use, asked live; quotas found there join the config's."""
    from newinfra.cost_model.catalog.live import LiveDataError, live_overrides

    if "aws" not in request.allowed_clouds:
        return base, request
    regions = sorted({o.region for o in base.offers if o.cloud == "aws"
                      and any(request.region_allowed(w, o.region) for w in request.workloads)})
    try:
        data = live_overrides(regions, catalog=base)
    except LiveDataError as err:
        raise Failure(str(err), EXIT_BAD_INPUT) from None
    return data.catalog(base), request.model_copy(update={"quotas": request.quotas + data.quotas})


def register(app: typer.Typer) -> None:
    app.command("place")(place)
