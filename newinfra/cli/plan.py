"""`newinfra plan`: run the stack program offline, write the record, print what `pulumi up` would build."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from newinfra.exits import BAD_INPUT, PROGRAM_ERROR
from newinfra.record import Record, resource_regions


def summarize(record: Record) -> dict[str, Any]:
    from newinfra.cost_model.pricebook.bill import price_record

    regions = resource_regions(record)
    per_type = Counter((r["type"], regions.get(r["urn"], "")) for r in record.resources if r["custom"])
    bill = price_record(record)  # the whole bill, as `newinfra cost`, `check` and the lock give it
    return {
        "project": record.project,
        "stack": record.stack,
        "resources": len(record.resources),
        "byTypeAndRegion": [{"type": t, "region": reg, "count": n} for (t, reg), n in sorted(per_type.items())],
        "nodeGroups": sorted(record.outputs.get("nodeGroups", []), key=lambda g: (g["cloud"], g["pool"])),
        "cost": {**bill.totals.to_dict(), "unpriced": len(bill.unpriced)},
    }


def print_summary(summary: dict[str, Any], out_file: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{summary['project']} / {summary['stack']}: {summary['resources']} resources")
    for col in ("type", "region", "count"):
        table.add_column(col, justify="right" if col == "count" else "left", overflow="fold")
    for row in summary["byTypeAndRegion"]:
        table.add_row(row["type"], row["region"], str(row["count"]))
    console.print(table)
    if summary["nodeGroups"]:
        pools = Table(title="accelerator node pools")
        for col in ("cloud", "region", "pool", "instance type", "nodes (min-desired-max)", "market"):
            pools.add_column(col, overflow="fold")
        for g in summary["nodeGroups"]:
            pools.add_row(g["cloud"], g["region"], g["pool"], g["instanceType"],
                          f"{g['minSize']}-{g['desiredSize']}-{g['maxSize']}", g["market"])
        console.print(pools)
    c = summary["cost"]
    console.print(f"monthly bill ${c['monthlyUsd']:,.2f} at desired size, ${c['maxMonthlyUsd']:,.2f} at max size "
                  f"(egress ${c['egressUsdPerMonth']:,.2f}); prices as of {c['priceDate'] or 'n/a'}; "
                  f"{c['unpriced']} unpriced (`newinfra cost` lists them)")
    console.print(f"record: {out_file}")


def run_plan(cwd: Path, stack: str, show_progress: bool, preview: bool = True) -> Record:
    from newinfra.offline import run_program

    if not show_progress:
        return run_program(cwd, stack, preview=preview)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True, console=_stderr_console()) as progress:
        task = progress.add_task(f"planning {stack}: importing the program", total=None)
        return run_program(cwd, stack, preview=preview, on_register=lambda n: progress.update(
            task, description=f"planning {stack}: {n} resources registered"),
            progress=lambda message: progress.update(task, description=message))


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def plan_command(
    env: str = typer.Argument(None, help="a stack of the project in the current directory (Pulumi.ENV.yaml)"),
    out: Path = typer.Option(None, "--out", help="where to write resources.json (default build/ENV)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    cwd: Path = typer.Option(None, "--cwd", help="another Pulumi Python program to plan instead"),
    stack: str = typer.Option(None, "--stack", help="with --cwd: the stack whose Pulumi.<stack>.yaml to use"),
    up: bool = typer.Option(False, "--up", help="emulate `pulumi up` instead of `pulumi preview` (is_dry_run() "
                                                  "False, every mocked output known)"),
) -> None:
    """Run the stack program offline (no credentials, no CLI) and record what `pulumi up` would create."""
    from newinfra.config import ConfigError, config_notes, load_env_config
    from newinfra.offline import OfflineError
    from newinfra.project import ProjectError, find_project

    if cwd is None:
        if env is None:
            _fail("ENV is required (a stack of this project), or --cwd DIR --stack NAME")
        try:
            project = find_project()
            cfg = load_env_config(env, project)  # every config error before anything runs or is written
            check_lock(cfg, project.lock_path(env))
        except (ConfigError, ProjectError) as exc:
            _fail(str(exc))
        for note in config_notes(cfg):
            typer.echo(f"note: {note}", err=True)
        cwd, stack = project.root, env
        out_dir = out or project.build_dir(stack)
    elif stack is None:
        _fail("--stack is required with --cwd")
    else:
        # Another program's record goes next to this project's own, never over it.
        out_dir = out or Path("build") / f"{cwd.resolve().name}-{stack}"
    from newinfra.cli.progress import interactive
    from newinfra.offline.engine import ProjectFileError

    try:
        record = run_plan(cwd, stack, show_progress=not as_json and interactive(), preview=not up)
    except ProjectFileError as exc:  # Pulumi.yaml or the stack file
        _fail(str(exc))
    except OfflineError as exc:  # the program raised, or needs what the offline engine cannot give
        program_failed(str(exc), as_json)
    try:
        record.write(out_dir)
    except ValueError as exc:  # --out names a directory that holds other files
        _fail(f"--out: {exc}")
    summary = summarize(record)
    if as_json:
        typer.echo(json.dumps({**summary, "record": str(out_dir / "resources.json")}, indent=2, sort_keys=True))
    else:
        print_summary(summary, out_dir / "resources.json")


def program_failed(message: str, as_json: bool) -> None:
    """The program raised: exit 4 with one line (and the JSON error object under --json), never a verdict."""
    if as_json:
        typer.echo(json.dumps({"error": {"kind": "program", "message": message}}, sort_keys=True))
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(PROGRAM_ERROR)


def check_lock(cfg, path: Path) -> None:
    """A lock that is wrong (not merely stale) is the user's input error, found before the program runs: raised
    inside the program it would read as the program's own failure (exit 4)."""
    from newinfra.config import ConfigError
    from newinfra.cost_model import lock
    from newinfra.cost_model.catalog import load_catalog

    if all(w.placement for w in cfg.workloads):
        return
    try:
        lock.load_placements(cfg.request, path, load_catalog())
    except lock.StaleLock:
        return  # preview re-solves and shows the difference; `pulumi up` refuses (the program says so)
    except (lock.BadLock, lock.InvalidLock, ValueError) as err:
        raise ConfigError(str(err)) from None


def _fail(message: str, code: int = BAD_INPUT) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan_command)
