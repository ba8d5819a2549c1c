"""Physical names: the one rule for every name a cloud sees (cluster, node group, alias, bucket, log group…).

Pulumi logical names are unique only inside one stack; a cloud account is shared by every stack placed in
it. So a physical name carries the project and the stack: ``<project>-<stack>-<name>`` — e.g. dev's EKS
cluster ``newinfra-dev-aws-us-east-1-gpu`` and qa's ``newinfra-qa-aws-us-east-1-gpu`` in the same account
and region.

Every physical name uses the charset all three clouds accept for every kind we name: lowercase letters,
digits and ``-``, starting with a letter and ending with a letter or digit (S3 and OSS buckets, GCP's
RFC 1035 names and service-account ids, Alibaba log projects are the strictest). Only the length limit
differs per kind (``LIMITS``). The readable form is used as is when it fits, is already in that charset,
and project and stack contain no ``-`` (so the split between project, stack and name is unambiguous).
Otherwise the name is the readable form, sanitised and cut, plus ``-`` and 8 hex digits of a SHA-256 over
the exact (project, stack, name): two different triples then share a physical name only by a hash
collision, and the same triple always gets the same name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HASH_LEN = 8
_INVALID = re.compile(r"[^a-z0-9-]+")
_VALID = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True)
class Limit:
    max_len: int
    min_len: int = 1


# Kind -> length limit of the part newinfra chooses (a fixed prefix such as "alias/" is the caller's).
LIMITS: dict[str, Limit] = {
    # AWS
    "aws:eks:cluster": Limit(100),
    "aws:eks:node-group": Limit(63),
    "aws:kms:alias": Limit(250),  # 256 with "alias/"
    "aws:cloudwatch:log-group": Limit(500),  # 512 with "/aws/eks/…/cluster"
    "aws:autoscaling:group": Limit(255),
    "aws:ec2:placement-group": Limit(255),
    "aws:budgets:budget": Limit(100),
    "aws:sqs:queue": Limit(80),
    "aws:sns:topic": Limit(256),
    "aws:events:rule": Limit(64),
    # Google Cloud (RFC 1035 names; GKE node pools 40; service-account ids 6-30; base instance names 58)
    "gcp:container:node-pool": Limit(40),
    "gcp:serviceaccount:account-id": Limit(30, 6),
    "gcp:compute:instance-group-manager": Limit(63),
    "gcp:compute:base-instance-name": Limit(58),
    "gcp:compute:instance-template-prefix": Limit(36),  # 37 with the "-" before the provider's suffix
    "gcp:kms:crypto-key": Limit(63),
    "gcp:tpu:node": Limit(63),
    "gcp:billing:budget": Limit(60),  # the display name
    "gcp:pubsub:topic": Limit(255, 3),
    # Alibaba Cloud
    "alicloud:cs:cluster": Limit(63),
    "alicloud:cs:node-pool": Limit(63),
    "alicloud:ecs:deployment-set": Limit(128, 2),
    "alicloud:vpc:vpc": Limit(128, 2),
    "alicloud:vpc:vswitch": Limit(128, 2),
    "alicloud:vpc:nat-gateway": Limit(128, 2),
    "alicloud:vpc:eip": Limit(128, 2),
    "alicloud:vpc:snat-entry": Limit(128, 2),
    "alicloud:ecs:security-group": Limit(128, 2),
    "alicloud:log:project": Limit(63, 3),
    "alicloud:log:store": Limit(63, 3),
    "alicloud:vpc:flow-log": Limit(128, 2),
    "alicloud:nas:access-group": Limit(64),
    "alicloud:ess:scaling-group": Limit(64, 2),
    "alicloud:ess:scaling-configuration": Limit(64, 2),
    "alicloud:ecs:instance": Limit(128, 2),
}


class UnknownKind(ValueError):
    """A kind the table does not know (a programming error in a component, not a user's)."""


def _digest(project: str, stack: str, name: str) -> str:
    raw = "\x00".join((project, stack, name)).encode()
    return hashlib.sha256(raw).hexdigest()[:HASH_LEN]


def _sanitise(text: str) -> str:
    out = _INVALID.sub("-", text.lower())
    out = re.sub(r"-{2,}", "-", out).strip("-")
    if not out or not out[0].isalpha():
        out = f"n-{out}".rstrip("-")
    return out


def physical_name(kind: str, project: str, stack: str, name: str) -> str:
    """The physical name of resource ``name`` of ``kind`` in ``project``/``stack`` (pure, deterministic)."""
    try:
        limit = LIMITS[kind]
    except KeyError:
        raise UnknownKind(f"unknown physical-name kind {kind!r}; known: {sorted(LIMITS)}") from None
    readable = f"{project}-{stack}-{name}"
    clean = _sanitise(readable)
    unambiguous = "-" not in project and "-" not in stack
    if clean == readable and unambiguous and limit.min_len <= len(clean) <= limit.max_len:
        return clean
    head = clean[: limit.max_len - HASH_LEN - 1].rstrip("-")
    return f"{head}-{_digest(project, stack, name)}"


def is_valid(kind: str, value: str) -> bool:
    """Whether ``value`` fits the charset and the length limit of ``kind``."""
    limit = LIMITS[kind]
    return limit.min_len <= len(value) <= limit.max_len and _VALID.fullmatch(value) is not None
