"""Components plan from plain values; an Output where a plan needs a value is a clear error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi


class ComponentArgError(ValueError):
    """A component argument the providers would reject, or one the component cannot plan from."""


def require_plain(args: Mapping[str, Any], key: str) -> Any:
    if key not in args:
        raise ComponentArgError(f"{key}: required argument is missing")
    value = args[key]
    if isinstance(value, pulumi.Output):
        raise ComponentArgError(f"{key}: must be a plain value (it decides what gets created), not an Output")
    return value
