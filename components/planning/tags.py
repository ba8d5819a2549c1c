"""Cost tags every cloud resource carries, and the data-classification key the residency policy reads."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence

from newinfra.errors import ComponentInputError

REQUIRED_TAGS = ("owner", "cost-center")
CLASSIFICATION_KEY = "newinfra-data-classification"


def with_cost_tags(tags: dict[str, str], classification: str | None = None) -> dict[str, str]:
    """Sorted tags with the required cost keys (a resource nobody pays for is one nobody turns off), plus the
    data classification of data-bearing resources."""
    classification = checked_classification(classification)
    missing = [k for k in REQUIRED_TAGS if not tags.get(k)]
    if missing:
        raise ComponentInputError("tags", f"missing required keys {missing}; got {sorted(tags)}")
    return with_classification(dict(sorted(tags.items())), classification)


def with_classification(tags: dict[str, str], classification: str | None) -> dict[str, str]:
    """``tags`` plus the data classification the residency policy reads (unchanged when there is none)."""
    classification = checked_classification(classification)
    return {**tags, CLASSIFICATION_KEY: classification} if classification is not None else dict(tags)


def checked_classification(classification: object, path: str = "classification") -> str | None:
    """A component's classification argument, checked before anything is registered: None (no data
    classification), else the dataset's classification as a tag value every cloud accepts. Residency reads
    the value back and looks it up in newinfra:dataResidency, so a blank or mistyped one would slip past it."""
    if classification is None:
        return None
    shortest_value = min(max_value for _, max_value, _ in TAG_RULES.values())
    if not isinstance(classification, str) or not classification.strip() or \
            classification != classification.strip() or len(classification) > shortest_value:
        raise ComponentInputError(path, f"{classification!r:.40} is not a data classification; give the "
                                        f"dataset's classification (a newinfra:dataResidency key, 1-{shortest_value} "
                                        "characters, no surrounding blanks) or leave the argument out")
    return classification


def strictest_classification(classifications: Iterable[str | None], region: str,
                             residency: Mapping[str, Sequence[str]]) -> str | None:
    """The one classification a resource holding several workloads' data carries (a cluster, whose pools
    run workloads of different datasets): their common one when they share it; else the strictest for the
    resource's region, in the terms the residency rule judges by (newinfra:dataResidency, fnmatch patterns):
    first a classification whose patterns do not allow ``region`` (so the rule reports the cluster, as it
    would for that data alone), then one without "*", fewer patterns first, then by name. None when no
    workload has classified data."""
    found = sorted({c for c in classifications if c is not None})
    if len(found) <= 1:
        return found[0] if found else None

    def rank(classification: str) -> tuple[bool, bool, int, str]:
        patterns = tuple(residency.get(classification, ("*",)))
        allowed = any(fnmatch.fnmatchcase(region, p) for p in patterns)
        return allowed, "*" in patterns, len(patterns), classification

    return min(found, key=rank)


# What each cloud accepts as a tag (GCP: a label, after gcp_labels lowercases it and turns other characters
# into '-'): longest key, longest value, reserved key prefixes (case-insensitive).
TAG_RULES: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "aws": (128, 256, ("aws:",)),
    "gcp": (63, 63, ("goog",)),
    "alicloud": (128, 128, ("aliyun", "acs:")),
}


def tag_problems(tags: dict[str, str], clouds: tuple[str, ...]) -> list[str]:
    """Why a tag could not land on every resource of ``clouds`` as written; [] when it can. A tag the cloud
    would refuse, or rewrite into another tag's key, fails the stack before anything is registered."""
    import re

    out = []
    label_keys: dict[str, str] = {}
    for key, value in sorted(tags.items()):
        for cloud in sorted(set(clouds) & set(TAG_RULES)):
            max_key, max_value, reserved = TAG_RULES[cloud]
            prefix = next((p for p in reserved if key.lower().startswith(p)), None)
            if prefix:
                out.append(f"key {key[:40]!r} starts with {prefix!r}, reserved by {cloud}; choose another key")
            elif len(key) > max_key:
                out.append(f"key {key[:40]!r}...: {len(key)} characters; {cloud} allows at most {max_key}")
            elif len(value) > max_value:
                out.append(f"{key}: the value has {len(value)} characters; {cloud} allows at most {max_value}")
            elif cloud == "gcp":
                label = re.sub(r"[^a-z0-9_-]+", "-", key.lower())
                if not label[:1].isalpha():
                    out.append(f"key {key!r} cannot be a GCP label key: it must start with a letter")
                elif label in label_keys:
                    out.append(f"keys {label_keys[label]!r} and {key!r} are the same GCP label {label!r}; "
                               f"rename one")
                label_keys.setdefault(label, key)
    return out
