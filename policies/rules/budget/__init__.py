"""Budget rules: cost estimate vs budget, accelerator caps, spot share, scale-to-zero, allow-list, tags,
storage hygiene."""

from policies.rules.budget import compute, storage, tags

POLICIES = [*compute.POLICIES, *tags.POLICIES, *storage.POLICIES]
