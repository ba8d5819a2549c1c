"""The one error a component raises for an argument it cannot build from.

It is the SDK's ``pulumi.InputPropertyError``: the component provider host turns it into the engine's
"invalid property" status with the property path, so programs in any language see which argument was wrong.
It is also a ``ValueError``, which is what the CLI reports as a user error (exit 2).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pulumi


class ComponentInputError(pulumi.InputPropertyError, ValueError):
    """A bad component argument: ``property_path`` names it (``node_pools[1].instance_type``), ``reason``
    says what the value is and what would be valid. ``str()`` is the one-line message ``path: reason``."""

    def __init__(self, property_path: str, reason: str) -> None:
        pulumi.InputPropertyError.__init__(self, property_path, reason)
        # InputPropertyError keeps no message of its own: str() and tracebacks read Exception's args.
        ValueError.__init__(self, f"{property_path}: {reason}")

    def under(self, prefix: str) -> ComponentInputError:
        """The same error for an argument nested under ``prefix`` (``node_pools[1]`` + ``market``)."""
        path = self.property_path
        joined = f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"
        return ComponentInputError(joined, self.reason)


@contextlib.contextmanager
def input_path(prefix: str) -> Iterator[None]:
    """Checks of one nested argument (a pool in a list) raise with the full property path."""
    try:
        yield
    except ComponentInputError as exc:
        raise exc.under(prefix) from None


def from_keyed(exc: ValueError) -> ComponentInputError:
    """A plain ``key: reason`` error of the core (the facts' naming rules raise those without importing pulumi)
    as the component error for the same property."""
    key, sep, reason = str(exc).partition(": ")
    return ComponentInputError(key, reason) if sep and " " not in key else ComponentInputError("value", str(exc))
