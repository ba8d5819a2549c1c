"""What the budget rules share: the checked environment and the stack's accelerator pools."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from newinfra.cost_model.catalog import prices
from newinfra.cost_model.record_pools import Pool
from newinfra.policies.rules.common import setting

ENVIRONMENT_PROPERTY = {
    "type": "string", "minLength": 1,
    "description": "environment of the checked stack (default: newinfra:environment, else the stack name)",
}
PRODUCTION = "prod"


def environment(config: Mapping[str, Any]) -> str | None:
    return setting(config, "environment", "environment") or os.environ.get("PULUMI_STACK") or None


def accelerated(stack_pools: list[Pool]) -> list[Pool]:
    book = prices.book()
    return [p for p in stack_pools if p.accelerated(book)]
