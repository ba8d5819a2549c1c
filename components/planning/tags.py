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
