"""A record from the JSON of a real ``pulumi preview --json``, so that a stack previewed with credentials is
priced by the same functions as an offline record.

The preview's ``steps`` each carry the resource's future state (``newState``: urn, type, custom, parent,
provider, inputs). A step that deletes, discards or only reads a resource adds nothing to the bill and is
skipped; a replacement counts once (its new state).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SKIPPED_OPS = {"delete", "discard", "read", "read-discard", "delete-replaced", "remove-pending-replace"}


class PreviewError(ValueError):
    """Not the JSON of ``pulumi preview --json``; the message names the file and what is missing."""


def record_from_preview(path: Path):
    from newinfra.record import Record

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PreviewError(f"{path}: no such preview file") from None
    except ValueError as err:
        raise PreviewError(f"{path}: not JSON ({err})") from None
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        raise PreviewError(f"{path}: no 'steps' list: expected the output of `pulumi preview --json`")
    resources: dict[str, dict[str, Any]] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or step.get("op") in SKIPPED_OPS:
            continue
        state = step.get("newState")
        if not isinstance(state, dict) or not state.get("urn") or not state.get("type"):
            raise PreviewError(f"{path}: steps[{i}] ({step.get('op')!r}): no newState with urn and type")
        urn = state["urn"]
        resources[urn] = {"urn": urn, "type": state["type"], "name": urn.rsplit("::", 1)[-1],
                          "custom": bool(state.get("custom", True)), "parent": state.get("parent") or None,
                          "provider": state.get("provider") or None, "inputs": state.get("inputs") or {},
                          "propertyDependencies": state.get("propertyDependencies") or {}}
    stack = next((r["urn"].split("::")[0].rsplit(":", 1)[-1] for r in resources.values()), "")
    project = next((r["urn"].split("::")[1] for r in resources.values()), "")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    return Record(project=project, stack=stack, resources=sorted(resources.values(), key=lambda r: r["urn"]),
                  config=config)
