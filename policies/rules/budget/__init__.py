"""Budget rules: cost estimate vs budget, accelerator caps, spot share, scale-to-zero, allow-list, tags,
storage hygiene."""

from policies.rules.budget.caps import accelerator_caps
from policies.rules.budget.cost import monthly_budget
from policies.rules.budget.idle import scale_to_zero, spot_share
from policies.rules.budget.instance_types import instance_type_allow_list
from policies.rules.budget.storage import storage_lifecycle
from policies.rules.budget.tags import cost_allocation_tags

POLICIES = [monthly_budget, accelerator_caps, spot_share, scale_to_zero, instance_type_allow_list,
            cost_allocation_tags, storage_lifecycle]
