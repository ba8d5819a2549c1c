"""D13: encryption keys rotate and grant nothing to a wildcard principal."""

from __future__ import annotations

import json
import re
from typing import Any

from newinfra.policies.rules.common import get, items
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import PolicyConfigSchema

KMS_KEY = "aws:kms/key:Key"
GCP_KEY = "gcp:kms/cryptoKey:CryptoKey"
ALI_KEY = "alicloud:kms/key:Key"
SECONDS_PER_DAY = 86400

KEY_SCHEMA = PolicyConfigSchema(
    properties={"maxRotationDays": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 365}}
)


def _wildcard_statements(policy: Any) -> list[str]:
    """Sids of Allow statements whose principal is '*' and that have no Condition."""
    if not isinstance(policy, str) or not policy:
        return []
    try:
        doc = json.loads(policy)
    except json.JSONDecodeError:
        return ["<unparseable policy>"]
    bad = []
    for i, st in enumerate(items(doc.get("Statement"))):
        principal = st.get("Principal")
        values = [principal] if isinstance(principal, str) else [
            v for vs in (principal or {}).values() for v in items(vs)]
        if st.get("Effect") == "Allow" and "*" in values and not st.get("Condition"):
            bad.append(st.get("Sid") or f"#{i}")
    return bad


def _aws_key(p: Any, c) -> list[str]:
    problems = []
    if get(p, "customerMasterKeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and \
            get(p, "enableKeyRotation") is not True:
        problems.append("enableKeyRotation is not true")
    period = get(p, "rotationPeriodInDays")
    if period is not None and period > c["maxRotationDays"]:
        problems.append(f"rotationPeriodInDays {period:g} exceeds {c['maxRotationDays']}")
    bad = _wildcard_statements(get(p, "policy"))
    if bad:
        problems.append(f"policy statements {bad} allow Principal '*' without a Condition")
    return problems


UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": SECONDS_PER_DAY}


def _seconds(duration: Any) -> float | None:
    """'7776000s' (GCP), '365d' / '2592000s' (Alibaba) -> seconds; None when absent or unreadable."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", str(duration or "").strip())
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)] if match else None


def _gcp_key(p: Any, c) -> list[str]:
    seconds = _seconds(get(p, "rotationPeriod"))
    if seconds is None:
        return ["rotationPeriod is not set"]
    if seconds > c["maxRotationDays"] * SECONDS_PER_DAY:
        return [f"rotationPeriod {seconds / SECONDS_PER_DAY:g} days exceeds {c['maxRotationDays']}"]
    return []


def _ali_key(p: Any, c) -> list[str]:
    if get(p, "automaticRotation") != "Enabled":
        return ["automaticRotation is not 'Enabled'"]
    seconds = _seconds(get(p, "rotationInterval"))
    if seconds is not None and seconds > c["maxRotationDays"] * SECONDS_PER_DAY:
        return [f"rotationInterval {get(p, 'rotationInterval')} exceeds {c['maxRotationDays']} days"]
    return []


key_rotation = table_rule(
    "key-rotation-no-wildcards",
    "D13: customer keys rotate (at most maxRotationDays) and no key policy allows Principal '*' without a "
    "Condition. Fix: AWS: enableKeyRotation true and a scoped policy; GCP: rotationPeriod (e.g. '7776000s'); "
    "Alibaba: automaticRotation 'Enabled' with rotationInterval.",
    {KMS_KEY: _aws_key, GCP_KEY: _gcp_key, ALI_KEY: _ali_key},
    KEY_SCHEMA,
)

POLICIES = [key_rotation]
