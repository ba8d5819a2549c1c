"""IAM policy documents as recorded: JSON text (what ``json.dumps`` or ``aws.iam.get_policy_document(...).json``
hands the provider) or an already-structured mapping. Shared by the IAM and bucket-policy rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from newinfra.policies.rules.common import items, plain


def statements(document: Any) -> list[dict[str, Any]]:
    """The statements of a policy document; [] for an unset one. Text that is not JSON raises ValueError
    (the rule reports it as "not evaluated": the provider would refuse it too)."""
    if document is None or document == "":
        return []
    doc = json.loads(document) if isinstance(document, str) else plain(document)
    if not isinstance(doc, Mapping):
        raise ValueError(f"a policy document is a JSON object, not {type(doc).__name__}")
    return [s for s in items(doc.get("Statement")) if isinstance(s, Mapping)]


def allows(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect", "Allow") == "Allow"


def public_principal(statement: Mapping[str, Any]) -> bool:
    """``Principal: "*"`` or ``{"AWS": "*"}`` (any spelling of everyone)."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(v == "*" or (isinstance(v, list) and "*" in v) for v in principal.values())
    return False


def actions(statement: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in items(statement.get("Action"))]


def resources(statement: Mapping[str, Any]) -> list[str]:
    return [str(r) for r in items(statement.get("Resource"))]
