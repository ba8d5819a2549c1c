"""Components plan from plain values; an Output where a plan needs a value is a clear error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from newinfra.errors import ComponentInputError


def require_plain(args: Mapping[str, Any], key: str) -> Any:
    if key not in args:
        raise ComponentInputError(key, "required argument is missing")
    value = args[key]
    if isinstance(value, pulumi.Output):
        raise ComponentInputError(key, "must be a plain value (it decides what gets created), not an Output")
    return value
