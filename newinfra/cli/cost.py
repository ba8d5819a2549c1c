"""`newinfra cost`: the whole bill of a stack, per resource, from the price book (Infracost for Pulumi).

    newinfra cost ENV | --cwd DIR --stack NAME | --record DIR | --preview FILE
                  [--usage FILE] [--json] [--markdown FILE]

Every line shows its quantity, unit price, source and as-of date; the coverage line counts what is
priced, usage-based (quantities from the usage file or its documented defaults) and unpriced (listed,
never counted as zero). Exit 0 on success, 2 on bad input (nothing written), 4 when the program fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from newinfra import exits
from newinfra.atomic import write_text as atomic_write


def _resolve(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None,
             preview: Path | None = None):
    from newinfra.offline import load_record

    if preview is not None:
        if env is not None or cwd is not None or record_dir is not None:
            raise ValueError("--preview prices a `pulumi preview --json` file on its own: drop ENV, --cwd, --record")
        from newinfra.cost_model.pricebook.preview import record_from_preview

        return record_from_preview(preview)
    if record_dir is not None and env is None and cwd is None:
        try:
            return load_record(record_dir)
        except FileNotFoundError as e:
            raise ValueError(f"--record: {e}") from e
    from newinfra.cli.check import _record

    return _record(env, cwd, stack, record_dir)[0]


def bill_for(record: Any, usage_path: Path | None):
    from newinfra.cost_model.pricebook.bill import price_record
    from newinfra.cost_model.pricebook.pricing import USAGE
    from newinfra.cost_model.pricebook.usage import Usage, check_usage, read_usage

    usage = read_usage(usage_path) if usage_path is not None else Usage({}, "<defaults>")
    check_usage(usage, [r for r in record.resources if r.get("custom", True)], USAGE)
    return price_record(record, usage)


def _money(x: float) -> str:
    return f"${x:,.2f}"


def coverage_line(bill) -> str:
    d = bill.to_dict()["coverage"]
    unpriced = ", ".join(p.name for p in bill.unpriced) or "none"
    return (f"coverage: {d['priced']} priced ({d['usageBased']} usage-based), {d['unpriced']} unpriced "
            f"({unpriced}), {d['free']} free of charge")


def markdown(bill) -> str:
    out = [f"### Monthly bill: {bill.project} / {bill.stack}", "",
           f"**{_money(bill.monthly_usd)}** at desired size, **{_money(bill.max_monthly_usd)}** at max size "
           f"({_money(bill.accelerator_usd())} / {_money(bill.accelerator_usd(True))} accelerators); "
           f"prices as of {bill.price_date or 'n/a'} (the oldest price used).", "",
           "| resource | type | item | quantity | unit price | monthly | max | source (as of) |",
           "|---|---|---|---:|---:|---:|---:|---|"]
    for p in bill.priced:
        for line in p.lines:
            src = line.price.source.split(";")[0][:80].replace("|", "/")
            note = f" — {line.price.assumption}" if line.price.assumption else ""
            out.append(f"| {p.name} | `{p.type}` | {line.item}{' (usage)' if line.usage else ''}{note} | "
                       f"{line.quantity:,.2f} {line.unit} | {line.price.usd:.6g} | {_money(line.monthly_usd)} | "
                       f"{_money(line.max_monthly_usd)} | {src} ({line.price.as_of}) |")
    out += ["", coverage_line(bill), ""]
    if bill.unpriced:
        out += ["Unpriced:", ""] + [f"- `{p.urn}`: {p.unpriced}" for p in bill.unpriced] + [""]
    return "\n".join(out)


def print_table(bill) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    table = Table(title=f"{bill.project} / {bill.stack}: monthly bill")
    for col in ("resource", "item", "quantity", "unit USD", "monthly", "max", "source", "as of"):
        table.add_column(col, justify="right" if col in ("quantity", "unit USD", "monthly", "max") else "left",
                         overflow="fold")
    for p in bill.priced:
        for line in p.lines:
            note = f" [{line.price.assumption}]" if line.price.assumption else ""
            table.add_row(p.name, line.item + (" (usage)" if line.usage else "") + note,
                          f"{line.quantity:,.2f} {line.unit}", f"{line.price.usd:.6g}", _money(line.monthly_usd),
                          _money(line.max_monthly_usd), line.price.source.split(";")[0][:60], line.price.as_of)
    console.print(table)
    console.print(f"total {_money(bill.monthly_usd)}/month at desired size, {_money(bill.max_monthly_usd)} at "
                  f"max size ({_money(bill.accelerator_usd())} / {_money(bill.accelerator_usd(True))} of it "
                  f"accelerators); prices as of {bill.price_date or 'n/a'}")
    console.print(coverage_line(bill))
    for p in bill.unpriced:
        console.print(f"  unpriced {p.urn}: {p.unpriced}")


class SummaryError(ValueError):
    """A --summary file that is not `newinfra check --json` output; the message names the file and key."""


def read_check_outputs(paths: list[Path]) -> list[dict[str, Any]]:
    """Per environment (sorted by stack): its `newinfra check --json` cost figures, or the error it gave."""
    import json

    out: list[dict[str, Any]] = []
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SummaryError(f"--summary: {path} does not exist") from None
        except (ValueError, OSError) as e:
            raise SummaryError(f"--summary: {path} is not JSON ({' '.join(str(e).split())[:120]}); expected the "
                               "output of `newinfra check ENV --json`") from None
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            out.append({"stack": path.stem, "error": str(doc["error"].get("message", ""))})
            continue
        cost = doc.get("cost") if isinstance(doc, dict) else None
        if not isinstance(cost, dict) or not all(isinstance(cost.get(k), int | float)
                                                 for k in ("monthlyUsd", "maxMonthlyUsd")):
            raise SummaryError(f"--summary: {path}: cost.monthlyUsd: {cost!r:.80} is not valid: expected the "
                               "output of `newinfra check ENV --json` (an object with cost.monthlyUsd)")
        lock = doc.get("lock") if isinstance(doc.get("lock"), dict) else {}
        base = lock.get("baseMonthlyUsd")
        out.append({"stack": str(doc.get("stack") or path.stem), "monthlyUsd": float(cost["monthlyUsd"]),
                    "maxMonthlyUsd": float(cost["maxMonthlyUsd"]), "priceDate": cost.get("priceDate"),
                    "baseMonthlyUsd": float(base) if isinstance(base, int | float) else None})
    return sorted(out, key=lambda e: e["stack"])


def cross_environment(envs: list[dict[str, Any]]) -> dict[str, Any]:
    """The total across environments: their bills summed as each check gave them (to the cent), the change
    against the base branch where every environment has a base, and the oldest price date."""
    priced = [e for e in envs if "error" not in e]
    bases = [e["baseMonthlyUsd"] for e in priced]
    base = round(sum(bases), 2) if priced and all(b is not None for b in bases) else None
    total = round(sum(e["monthlyUsd"] for e in priced), 2)
    dates = [e["priceDate"] for e in priced if e.get("priceDate")]
    return {"environments": envs, "monthlyUsd": total,
            "maxMonthlyUsd": round(sum(e["maxMonthlyUsd"] for e in priced), 2),
            "baseMonthlyUsd": base, "deltaUsd": None if base is None else round(total - base, 2),
            "priceDate": min(dates) if dates else None, "complete": len(priced) == len(envs)}


def summary_markdown(total: dict[str, Any]) -> str:
    """The comment's first section: each environment's whole bill, the change, the total across them."""
    def money(x: float | None) -> str:
        return "n/a" if x is None else _money(x)

    def delta(x: float | None) -> str:
        return "n/a" if x is None else f"{'+' if x >= 0 else '-'}${abs(x):,.2f}"

    out = ["### Monthly bill, all environments", "",
           "| environment | desired size | max size | base branch | change |", "|---|---:|---:|---:|---:|"]
    for e in total["environments"]:
        if "error" in e:
            out.append(f"| `{e['stack']}` | not priced: the check could not run | | | |")
            continue
        base = e["baseMonthlyUsd"]
        out.append(f"| `{e['stack']}` | {money(e['monthlyUsd'])} | {money(e['maxMonthlyUsd'])} | {money(base)} | "
                   f"{delta(None if base is None else round(e['monthlyUsd'] - base, 2))} |")
    out.append(f"| **total** | **{money(total['monthlyUsd'])}** | {money(total['maxMonthlyUsd'])} | "
               f"{money(total['baseMonthlyUsd'])} | **{delta(total['deltaUsd'])}** |")
    out += ["", f"_Prices as of {total['priceDate'] or 'n/a'} (the oldest price used)."
            + ("" if total["complete"] else " The total leaves out the environments that could not be checked.")
            + "_", ""]
    return "\n".join(out)


def run_summary(paths: list[Path], as_json: bool, markdown_path: Path | None) -> int:
    from newinfra.offline import dumps

    try:
        total = cross_environment(read_check_outputs(paths))
    except SummaryError as e:
        typer.echo(f"newinfra cost: {e}", err=True)
        return exits.BAD_INPUT
    if markdown_path is not None:
        atomic_write(markdown_path, summary_markdown(total))
    if as_json:
        typer.echo(dumps(total), nl=False)
    elif markdown_path is None:
        typer.echo(summary_markdown(total), nl=False)
    return exits.OK


def run_cost(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None,
             usage: Path | None, as_json: bool, markdown_path: Path | None, preview: Path | None = None) -> int:
    from newinfra.cli.check import CheckInputError, ProgramFailed
    from newinfra.cost_model.pricebook import PriceBookError
    from newinfra.cost_model.pricebook.usage import UsageError
    from newinfra.offline import OfflineError, dumps
    from newinfra.project import ProjectError

    try:
        record = _resolve(env, cwd, stack, record_dir, preview)
        bill = bill_for(record, usage)
    except (CheckInputError, ProjectError, UsageError, PriceBookError, ValueError) as e:
        typer.echo(f"newinfra cost: {e}", err=True)
        return exits.BAD_INPUT
    except (OfflineError, ProgramFailed) as e:  # the program raised: exit 4, one line, never "please report"
        typer.echo(f"newinfra cost: {e}", err=True)
        return exits.PROGRAM_ERROR
    if markdown_path is not None:
        atomic_write(markdown_path, markdown(bill))
    if as_json:
        typer.echo(dumps(bill.to_dict()), nl=False)
    else:
        print_table(bill)
    return exits.OK


Opt = typer.Option


def register(app: Any) -> None:
    @app.command("cost")
    def cost(
        env: Annotated[str | None, typer.Argument(help="newinfra environment (a stacks/Pulumi.ENV.yaml)")] = None,
        cwd: Annotated[Path | None, Opt("--cwd", help="another Pulumi Python program's directory")] = None,
        stack: Annotated[str | None, Opt("--stack", help="its stack (Pulumi.STACK.yaml)")] = None,
        record: Annotated[Path | None, Opt("--record", help="price a record directory (newinfra plan's build/ENV)")]
        = None,
        preview: Annotated[Path | None, Opt("--preview", help="price the JSON of a real `pulumi preview --json`")]
        = None,
        usage: Annotated[Path | None, Opt("--usage", help="usage file (YAML): GB stored, GB processed, requests")]
        = None,
        as_json: Annotated[bool, Opt("--json", help="print the bill as JSON")] = False,
        markdown_file: Annotated[Path | None, Opt("--markdown", help="write the bill as Markdown here")] = None,
        usage_defaults: Annotated[bool, Opt("--usage-defaults", help="list usage attributes and defaults")] = False,
        summary: Annotated[list[Path] | None, Opt(
            "--summary", help="`newinfra check ENV --json` outputs (repeatable): the total across environments")]
        = None,
    ) -> None:
        """Price everything the stack creates, per resource, with each price's source and date."""
        if summary:
            if env is not None or cwd is not None or record is not None or preview is not None:
                typer.echo("newinfra cost: --summary reads check outputs on its own: drop ENV, --cwd, --record, "
                           "--preview", err=True)
                raise typer.Exit(exits.BAD_INPUT)
            raise typer.Exit(run_summary(summary, as_json, markdown_file))
        if usage_defaults:
            from newinfra.cost_model.pricebook.pricing import USAGE

            for token, spec in USAGE.items():
                for attr, s in spec.items():
                    typer.echo(f"{token}\t{attr}\t{s.default:g}\t{s.doc}")
            raise typer.Exit(exits.OK)
        raise typer.Exit(run_cost(env, cwd, stack, record, usage, as_json, markdown_file, preview))
