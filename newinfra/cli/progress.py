"""Progress of a long command: a rich spinner on stderr naming the current step, only on a terminal.

In CI (the CI variable set) or when stderr is a pipe or file nothing is drawn, so logs and --json output stay
exactly what the command prints.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def interactive() -> bool:
    """Whether to draw progress: stderr is a terminal and this is not a CI run."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class Steps:
    """``with Steps("plan") as steps: steps.step("running the program")``; the spinner is transient."""

    def __init__(self, command: str, enabled: bool = True):
        self.command = command
        self.enabled = enabled and interactive()
        self._status: Any = None
        self._started = time.monotonic()
        self._count = 0

    def __enter__(self) -> Steps:
        if self.enabled:
            from rich.console import Console

            self._status = Console(stderr=True).status(f"{self.command}: starting")
            self._status.start()
        return self

    def step(self, text: str) -> None:
        self._count += 1
        if self._status is not None:
            self._status.update(f"{self.command}: {text} (step {self._count}, "
                                f"{time.monotonic() - self._started:.0f}s)")

    def stop(self) -> None:
        """Remove the spinner before the command prints its result."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __exit__(self, *exc: object) -> None:
        self.stop()
