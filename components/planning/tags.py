"""Cost tags every cloud resource carries, and the data-classification key the residency policy reads."""

from __future__ import annotations

from newinfra.errors import ComponentInputError

REQUIRED_TAGS = ("owner", "cost-center")
CLASSIFICATION_KEY = "newinfra-data-classification"


def with_cost_tags(tags: dict[str, str], classification: str | None = None) -> dict[str, str]:
    """Sorted tags with the required cost keys (a resource nobody pays for is one nobody turns off), plus the
    data classification of data-bearing resources."""
    missing = [k for k in REQUIRED_TAGS if not tags.get(k)]
    if missing:
        raise ComponentInputError("tags", f"missing required keys {missing}; got {sorted(tags)}")
    merged = dict(sorted(tags.items()))
    if classification:
        merged[CLASSIFICATION_KEY] = classification
    return merged


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
