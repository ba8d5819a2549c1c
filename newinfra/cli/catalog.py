"""`newinfra catalog`: list the offers (or the excluded rows) with their prices."""

from __future__ import annotations

import fnmatch
import json
import logging
import sys
import warnings
from typing import Annotated

import typer

CLOUDS = ("alicloud", "aws", "gcp")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _load():
    from newinfra.cost_model.catalog import CatalogError, load_catalog
    from newinfra.cost_model.catalog.loader import StaleCatalogWarning, stale_message

    # Printed here on every run (the loader warns once per process, and its log line would repeat it).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleCatalogWarning)
        logging.disable(logging.WARNING)
        try:
            cat = load_catalog()
        except CatalogError as err:
            raise _fail(str(err)) from None
        finally:
            logging.disable(logging.NOTSET)
    message = stale_message(cat)
    if message:
        typer.echo(f"warning: {message}", err=True)
    return cat


def _in(pattern: str | None, region: str) -> bool:
    return pattern is None or fnmatch.fnmatchcase(region, pattern)


def offer_row(o) -> dict:
    return {
        "cloud": o.cloud, "region": o.region, "zone": o.zone, "instanceType": o.instance_type,
        "accelerator": o.accelerator, "acceleratorsPerNode": o.accelerators_per_node,
        "acceleratorMemoryGiB": o.accelerator_memory_gib, "vCPUs": o.vcpus, "memoryGiB": o.memory_gib,
        "efa": o.efa, "nvlink": o.nvlink, "tpuTopology": o.tpu_topology, "onDemandUsd": o.on_demand_usd,
        "spotUsd": o.spot_usd, "source": o.source, "asOf": o.as_of,
    }


def _price(x: float | None) -> str:
    return "-" if x is None else f"{x:,.4f}"


def catalog(
    accelerator: Annotated[str | None, typer.Option(help="only this accelerator (aliases work: h100, v5e)")] = None,
    cloud: Annotated[str | None, typer.Option(help="only this cloud: aws, gcp or alicloud")] = None,
    region: Annotated[str | None, typer.Option(help="only regions matching this pattern, e.g. 'us-*'")] = None,
    excluded: Annotated[bool, typer.Option("--excluded", help="list the rows left out, with the reason")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List catalog offers with hourly prices, cheapest per accelerator first."""
    from newinfra.cost_model.catalog import UnknownAccelerator

    if cloud is not None and cloud not in CLOUDS:
        raise _fail(f"--cloud: unknown cloud {cloud!r}; valid: {', '.join(CLOUDS)}")
    cat = _load()
    if excluded:
        if accelerator is not None:
            raise _fail("--accelerator does not apply to --excluded (excluded rows may have no known accelerator)")
        rows = [e for e in sorted(cat.excluded + cat.opt_in)
                if (cloud is None or e.cloud == cloud) and _in(region, e.region)]
        _show_excluded(cat, rows, as_json)
        return
    try:
        offers = cat.offers_for(accelerator) if accelerator else cat.offers
    except UnknownAccelerator as err:
        raise _fail(f"--accelerator: {err}") from None
    offers = sorted((o for o in offers if (cloud is None or o.cloud == cloud) and _in(region, o.region)),
                    key=lambda o: (o.accelerator, o.on_demand_usd / o.accelerators_per_node, o.cloud, o.region,
                                   o.zone, o.instance_type, o.accelerators_per_node))
    if as_json:
        json.dump({"version": cat.version, "asOf": cat.as_of.isoformat(), "usdPerCny": cat.usd_per_cny,
                   "offers": [offer_row(o) for o in offers]}, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return
    _show_offers(cat, offers)


def _show_offers(cat, offers) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(offers)} offers · catalog {cat.version} · prices as of {cat.as_of} or later "
                        f"· CNY at {cat.usd_per_cny} USD ({cat.fx_as_of})")
    for col in ("accelerator", "cloud", "region", "zone", "instance type", "per node", "GiB each", "vCPUs",
                "on-demand $/h", "spot $/h", "$/accel-h", "interconnect"):
        table.add_column(col, justify="right" if col in ("per node", "GiB each", "vCPUs") or "$" in col else "left",
                         overflow="fold", no_wrap=col in ("accelerator", "instance type", "interconnect"))  # names whole
    for o in offers:
        links = ", ".join(x for x, on in (("EFA", o.efa), ("NVLink", o.nvlink), (o.tpu_topology, o.tpu_topology))
                          if on)
        table.add_row(o.accelerator, o.cloud, o.region, o.zone or "-", o.instance_type, str(o.accelerators_per_node),
                      "-" if o.accelerator_memory_gib is None else f"{o.accelerator_memory_gib:g}",
                      "-" if o.vcpus is None else f"{o.vcpus:g}", _price(o.on_demand_usd), _price(o.spot_usd),
                      _price(o.on_demand_usd / o.accelerators_per_node), links)
    Console().print(table)  # the terminal's width: cells fold instead of forcing 220 columns


def _show_excluded(cat, rows, as_json: bool) -> None:
    if as_json:
        json.dump({"version": cat.version, "excluded": [
            {"cloud": e.cloud, "region": e.region, "zone": e.zone, "instanceType": e.instance_type,
             "scope": e.scope, "reason": e.reason} for e in rows]}, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} excluded rows (scope offer: left out; spot: spot price dropped; "
                        f"opt-in: offered, placed only when the stack opts in)")
    for col in ("cloud", "region", "zone", "instance type", "scope", "reason"):
        table.add_column(col, overflow="fold")
    for e in rows:
        table.add_row(e.cloud, e.region or "-", e.zone or "-", e.instance_type, e.scope, e.reason)
    Console().print(table)  # the terminal's width: cells fold instead of forcing 220 columns


def register(app: typer.Typer) -> None:
    app.command("catalog")(catalog)
