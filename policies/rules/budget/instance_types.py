"""B1: accelerator pools use permitted instance types that the catalog offers in their region."""

from __future__ import annotations

import fnmatch

from newinfra.cost_model.catalog import prices
from newinfra.cost_model.record_pools import TYPES, pools
from newinfra.policies.rules.budget.scope import accelerated
from newinfra.policies.rules.common import stack_rule
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

ALLOW_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedInstanceTypes": {
            "type": "array", "items": {"type": "string", "minLength": 1},
            "description": "fnmatch patterns of permitted accelerator instance types (e.g. 'g6e.*', "
                           "'v5litepod-*'); unset: any type the catalog offers in the pool's region",
        }
    }
)


def _allow_list(args: StackValidationArgs, report: ReportViolation) -> None:
    patterns = args.get_config().get("allowedInstanceTypes")
    book = prices.book()
    for pool in accelerated(pools(args.resources)):
        for itype in pool.instance_types:
            if patterns is not None and not any(fnmatch.fnmatchcase(itype, p) for p in patterns):
                report(f"Pool '{pool.name}' uses {itype}, which allowedInstanceTypes {list(patterns)} does not "
                       "permit.", pool.urn)
                continue
            offered = book.regions_of(pool.cloud, itype)
            if offered and pool.region and pool.region not in offered:
                report(f"Pool '{pool.name}': {itype} is not offered in {pool.region} (catalog regions: "
                       f"{sorted(offered)[:8]}{' ...' if len(offered) > 8 else ''}).", pool.urn)


instance_type_allow_list = stack_rule(
    "accelerator-instance-types",
    "B1: accelerator pools use permitted instance types that the catalog offers in the pool's region. Fix: "
    "pick a type matching allowedInstanceTypes (newinfra place chooses one) in a region that offers it.",
    TYPES, _allow_list, ALLOW_SCHEMA,
)
