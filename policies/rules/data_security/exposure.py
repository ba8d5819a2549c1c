"""Two facts the coverage rules share, each derived from its one home: whether a list of CIDRs opens a
service to the internet (newinfra/cidrs.py: the address space covered, not strings) and whether an instance
type carries accelerators (newinfra/facts.py)."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items

from newinfra.cidrs import open_to_internet

__all__ = ["accelerated_type", "open_to_internet"]


def accelerated_type(cloud: str, instance_type: Any, props: Any = None) -> bool:
    """Whether a host is a GPU/TPU host: its type's family is an accelerator family in the facts (or GCE
    guestAccelerators are attached). A type no naming rule can read is judged as one (fail closed)."""
    from newinfra.facts import FamilyNameError, instance_facts

    if props is not None and items(get(props, "guestAccelerators")):
        return True
    if not isinstance(instance_type, str) or not instance_type:
        return True
    try:
        return instance_facts(cloud, instance_type.rsplit("/", 1)[-1]) is not None
    except FamilyNameError:
        return True
