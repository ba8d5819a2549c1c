"""The one adapter around the Pulumi Automation API: select the stack, run `pulumi up`, return its outputs.

Everything else of `newinfra up` / `rollback` (preflight, log, gate, choosing the last good deploy) is plain
code tested without the Pulumi CLI; the tests hand those functions another object with this small interface
(`Engine`). `pulumi.automation` is imported only when a real deploy runs, and it drives the `pulumi` CLI,
so a missing CLI is reported up front as EngineUnavailable (exit PROGRAM_ERROR, never a verdict or bad input).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol


class EngineUnavailable(RuntimeError):
    """The Pulumi CLI the Automation API drives is not installed or not on PATH."""


class DeployFailed(RuntimeError):
    """`pulumi up` itself failed (the engine's message is kept)."""


class Engine(Protocol):
    def up(self, stack: str) -> dict[str, Any]:
        """Deploy ``stack`` of the project as its files are now; return the stack outputs (plain values)."""


class AutomationEngine:
    """`pulumi up` of a stack of the local project at ``work_dir`` (its Pulumi.yaml, stackConfigDir and
    placement locks are read by the program itself, as under the CLI)."""

    def __init__(self, work_dir: Path, on_output=print) -> None:
        if shutil.which("pulumi") is None:
            raise EngineUnavailable("the Pulumi CLI is not on PATH: `newinfra up` and `rollback` deploy through "
                                    "the Automation API, which runs it; install it (https://www.pulumi.com/docs/"
                                    "install/) and log in to your backend")
        self.work_dir = Path(work_dir)
        self.on_output = on_output

    def up(self, stack: str) -> dict[str, Any]:
        from pulumi import automation as auto

        try:
            selected = auto.select_stack(stack_name=stack, work_dir=str(self.work_dir))
            result = selected.up(on_output=self.on_output, show_secrets=False)
        except auto.errors.CommandError as err:
            raise DeployFailed(" ".join(str(err).split())[:500]) from err
        return {name: out.value for name, out in sorted(result.outputs.items())}
