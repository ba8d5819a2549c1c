"""The physical name of a resource in the running stack: components/planning/names.py's rule, fed with the
Pulumi project and stack the program runs as (so two stacks in one account never ask for the same name)."""

import pulumi
from newinfra.components.planning.names import physical_name


def physical(kind: str, name: str) -> str:
    return physical_name(kind, pulumi.get_project(), pulumi.get_stack(), name)
