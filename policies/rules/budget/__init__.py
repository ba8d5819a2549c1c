"""Budget rules: cost estimate vs budget, accelerator caps, spot share, scale-to-zero, allow-list, tags,
storage hygiene."""

from newinfra.policies.rules.budget.caps import accelerator_caps
from newinfra.policies.rules.budget.cost import monthly_budget
from newinfra.policies.rules.budget.idle import scale_to_zero, spot_share
from newinfra.policies.rules.budget.instance_types import instance_type_allow_list
from newinfra.policies.rules.budget.storage import storage_lifecycle
from newinfra.policies.rules.budget.tags import cost_allocation_tags

POLICIES = [monthly_budget, accelerator_caps, spot_share, scale_to_zero, instance_type_allow_list,
            cost_allocation_tags, storage_lifecycle]
