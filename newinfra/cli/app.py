"""The `newinfra` command. Each part registers its own sub-commands; heavy imports happen inside them."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import typer

from newinfra.exits import INTERNAL_ERROR, OK

app = typer.Typer(
    name="newinfra",
    help="Plan, place, check and configure GPU/TPU infrastructure on AWS, Google Cloud and Alibaba Cloud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[/ZONE]" in an option's help is not a rich closing tag
)


def _version(value: bool) -> None:
    if value:
        from newinfra import __version__

        typer.echo(f"newinfra {__version__}")
        raise typer.Exit(OK)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="print newinfra's version and exit"),
) -> None:
    """One line per warning on a terminal: the catalog's staleness is logged once per run, so its Python
    warning (with a source line) would only repeat it."""
    import warnings

    from newinfra.cost_model.catalog.loader import StaleCatalogWarning

    warnings.simplefilter("ignore", StaleCatalogWarning)


# --- registrations: one line per part (keep sorted) -------------------------------------------------
from newinfra.cli.audit import register as _audit; _audit(app)  # noqa: E402,E702,I001
from newinfra.cli.catalog import register as _catalog; _catalog(app)  # noqa: E402,E702,I001
from newinfra.cli.place import register as _place; _place(app)  # noqa: E402,E702,I001
from newinfra.cli.check import register as _check; _check(app)  # noqa: E402,E702,I001
from newinfra.cli.cost import register as _cost; _cost(app)  # noqa: E402,E702,I001
from newinfra.cli.inventory import register as _inventory; _inventory(app)  # noqa: E402,E702,I001
from newinfra.cli.plan import register as _plan; _plan(app)  # noqa: E402,E702,I001
from newinfra.cli.report import register as _report; _report(app)  # noqa: E402,E702,I001
from newinfra.cli.up import register as _up; _up(app)  # noqa: E402,E702,I001
# --- end registrations ------------------------------------------------------------------------------


def main() -> None:
    """The console script and `python -m newinfra`: the command in its own process. Only a process of its own
    swaps the event loop policy (see newinfra/cli/loops.py); doing so inside a host process that already ran
    the SDK (a test session, a notebook) would strand the SDK's futures on the old loop."""
    from newinfra.cli.loops import close_loops_at_exit

    close_loops_at_exit()
    app()


def guarded(name: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """The command, with any exception it did not turn into an exit code reported as one line and exit
    INTERNAL_ERROR: a bug must never read as a verdict (1) or as bad input (2). NEWINFRA_DEBUG=1 re-raises."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            # typer's own usage errors (typer.BadParameter and its click exceptions) print their usage help.
            if type(exc).__module__.startswith(("typer", "click")) or os.environ.get("NEWINFRA_DEBUG") == "1":
                raise
            message = " ".join(str(exc).split())[:500]
            print(f"newinfra {name}: internal error: {type(exc).__name__}: {message} (please report)",
                  file=sys.stderr)
            raise typer.Exit(INTERNAL_ERROR) from None

    return run


for _info in app.registered_commands:
    if _info.callback is not None:
        _info.callback = guarded(_info.name or _info.callback.__name__, _info.callback)
