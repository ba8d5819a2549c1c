"""Drift between the last recorded plan and the live record (newinfra/audit/aws_reader.py), as plain functions.

Matching: a planned resource and a live one are the same when their types are equal and their physical names
agree. A program that names a resource explicitly records that name (``bucket``, ``name``); one that lets
Pulumi auto-name it records the logical name, and the live name is that name plus ``-`` and 7 hex digits
(the offline engine's auto-names have the same form, so a companion's ``bucket`` input matches either way).
A live resource is a candidate only when it carries every one of the stack's tags (``newinfra:tags``: the
stack's AWS provider sets them as default tags), so another stack's bucket of the same logical name in the
same account is never taken for this one. Bucket companions (public access block, encryption, versioning,
logging, policy) are matched through their bucket.

Only types with a physical name are matched (``MATCHED``); KMS keys, instances and volumes have none a plan
knows, so they are judged by the rules but not compared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from newinfra.audit import aws_reader as r
from newinfra.record import SECRET, UNKNOWN

_AUTONAME = re.compile(r"^(?P<name>.+)-[0-9a-f]{7}$")
# type -> the inputs compared (the settings the rules judge); companions are keyed by their bucket.
JUDGED: dict[str, tuple[str, ...]] = {
    r.S3_BUCKET: (),
    r.SECURITY_GROUP: (),
    r.EKS_CLUSTER: ("vpcConfig.endpointPrivateAccess", "vpcConfig.endpointPublicAccess",
                    "vpcConfig.publicAccessCidrs", "enabledClusterLogTypes", "encryptionConfig.provider.keyArn"),
    r.IAM_ROLE: ("assumeRolePolicy",),
    r.S3_PUBLIC_ACCESS_BLOCK: ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"),
    r.S3_SSE: ("rules",),
    r.S3_VERSIONING: ("versioningConfiguration.status",),
    r.S3_LOGGING: ("targetBucket",),
    r.S3_POLICY: ("policy",),
    r.S3_LIFECYCLE: (),
}
MATCHED = tuple(JUDGED)
COMPANIONS = (r.S3_PUBLIC_ACCESS_BLOCK, r.S3_SSE, r.S3_VERSIONING, r.S3_LOGGING, r.S3_POLICY, r.S3_LIFECYCLE)
NAME_INPUT = {r.S3_BUCKET: "bucket"}  # default "name"


@dataclass(frozen=True, order=True)
class Drift:
    kind: str  # "missing" | "changed" | "unmanaged"
    type: str
    name: str  # the planned logical name (missing, changed) or the live id (unmanaged)
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "type": self.type, "name": self.name, "detail": self.detail}


def base_name(value: str) -> str:
    """A physical name without Pulumi's auto-name suffix."""
    m = _AUTONAME.match(value)
    return m.group("name") if m else value


def _get(inputs: Mapping[str, Any], path: str) -> Any:
    cur: Any = inputs
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def _known(value: Any) -> bool:
    text = json.dumps(value, sort_keys=True)
    return UNKNOWN not in text and SECRET not in text


def _canonical(key: str, value: Any) -> Any:
    """Policy documents compare as JSON (whitespace and key order are not drift); lists as sorted sets."""
    if key in ("policy", "assumeRolePolicy") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value)
    return value


def planned_key(res: Mapping[str, Any]) -> str:
    inputs = res.get("inputs") or {}
    if res["type"] in COMPANIONS:
        return base_name(str(inputs.get("bucket", "")))
    named = inputs.get(NAME_INPUT.get(res["type"], "name"))
    return str(named) if isinstance(named, str) and named and _known(named) else str(res["name"])


def live_key(res: Mapping[str, Any]) -> str:
    inputs = res.get("inputs") or {}
    if res["type"] in COMPANIONS:
        return base_name(str(inputs.get("bucket", "")))
    return base_name(str(inputs.get(NAME_INPUT.get(res["type"], "name"), res["name"])))


def carries(tags: Any, stack_tags: Mapping[str, str]) -> bool:
    return isinstance(tags, Mapping) and all(tags.get(k) == v for k, v in stack_tags.items())


def drift(planned: Iterable[Mapping[str, Any]], live: Iterable[Mapping[str, Any]],
          stack_tags: Mapping[str, str]) -> list[Drift]:
    """Missing and changed resources of MATCHED types, sorted."""
    live = list(live)
    ours = {live_key(x) for x in live if x["type"] == r.S3_BUCKET and carries(x["inputs"].get("tags"), stack_tags)}
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for x in live:
        if x["type"] not in MATCHED:
            continue
        if x["type"] in COMPANIONS:
            if live_key(x) not in ours:
                continue
        elif not carries(x["inputs"].get("tags"), stack_tags):
            continue
        by_key.setdefault((x["type"], live_key(x)), x)
    out = []
    for p in planned:
        if p["type"] not in MATCHED:
            continue
        key = planned_key(p)
        found = by_key.get((p["type"], base_name(key))) or by_key.get((p["type"], key))
        if found is None:
            out.append(Drift("missing", p["type"], p["name"], f"planned {key!r} has no live counterpart"))
            continue
        for path in JUDGED[p["type"]]:
            want, have = _get(p.get("inputs") or {}, path), _get(found["inputs"], path)
            if want is None or not _known(want):
                continue
            if _canonical(path, want) != _canonical(path, have):
                out.append(Drift("changed", p["type"], p["name"],
                                 f"{path}: planned {json.dumps(want, sort_keys=True)[:120]}, live "
                                 f"{json.dumps(have, sort_keys=True)[:120]} ({found['name']})"))
    return sorted(out)


def unmanaged_accelerators(live: Iterable[Mapping[str, Any]], stacks_tags: Iterable[Mapping[str, str]]) -> list[Drift]:
    """Live accelerator instances (families in newinfra/facts.py) that carry no stack's tags: GPU spend no
    stack of this project manages."""
    from newinfra.facts import FamilyNameError, instance_facts

    all_tags = [dict(t) for t in stacks_tags if t]
    out = []
    for x in live:
        if x["type"] != r.EC2_INSTANCE:
            continue
        itype = str(x["inputs"].get("instanceType", ""))
        try:
            accelerated = instance_facts("aws", itype) is not None
        except FamilyNameError:
            accelerated = True  # an unreadable type is judged as one (fail closed, as the rules do)
        if accelerated and not any(carries(x["inputs"].get("tags"), t) for t in all_tags):
            out.append(Drift("unmanaged", r.EC2_INSTANCE, x["name"],
                             f"{itype} instance carries no stack's tags: no stack of this project manages it"))
    return sorted(out)
