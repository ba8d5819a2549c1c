"""The `newinfra` command. Each part registers its own sub-commands; heavy imports happen inside them."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="newinfra",
    help="Plan, place, check and configure GPU/TPU infrastructure on AWS, Google Cloud and Alibaba Cloud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _main() -> None:
    """One line per warning on a terminal: the catalog's staleness is logged once per run, so its Python
    warning (with a source line) would only repeat it."""
    import warnings

    from newinfra.cost_model.catalog.loader import StaleCatalogWarning

    warnings.simplefilter("ignore", StaleCatalogWarning)


# --- registrations: one line per part (keep sorted) -------------------------------------------------
from newinfra.cli.catalog import register as _catalog; _catalog(app)  # noqa: E402,E702,I001
from newinfra.cli.place import register as _place; _place(app)  # noqa: E402,E702,I001
from newinfra.cli.check import register as _check; _check(app)  # noqa: E402,E702,I001
from newinfra.cli.cost import register as _cost; _cost(app)  # noqa: E402,E702,I001
from newinfra.cli.inventory import register as _inventory; _inventory(app)  # noqa: E402,E702,I001
from newinfra.cli.plan import register as _plan; _plan(app)  # noqa: E402,E702,I001
# --- end registrations ------------------------------------------------------------------------------
