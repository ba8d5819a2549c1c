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


def run_cost(env: str | None, cwd: Path | None, stack: str | None, record_dir: Path | None,
             usage: Path | None, as_json: bool, markdown_path: Path | None, preview: Path | None = None) -> int:
    from newinfra.cli.check import CheckInputError
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
    except OfflineError as e:
        typer.echo(f"newinfra cost: {e}", err=True)
        return exits.PROGRAM_ERROR
    if markdown_path is not None:
        markdown_path.write_text(markdown(bill), encoding="utf-8")
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
    ) -> None:
        """Price everything the stack creates, per resource, with each price's source and date."""
        if usage_defaults:
            from newinfra.cost_model.pricebook.pricing import USAGE

            for token, spec in USAGE.items():
                for attr, s in spec.items():
                    typer.echo(f"{token}\t{attr}\t{s.default:g}\t{s.doc}")
            raise typer.Exit(exits.OK)
        raise typer.Exit(run_cost(env, cwd, stack, record, usage, as_json, markdown_file, preview))
