"""Capacity a cloud sells only to accounts that opted in: AWS Local Zones and AWS opt-in regions.

The catalog keeps their offers (so a stack that opted in can use them) and discloses them: `newinfra catalog
--excluded` lists each with scope and reason "opt-in", and the cost model places nothing there unless the
request allows it (`allowLocalZones: true`, `optInRegions: [...]`). One predicate, `opt_in_reason`, decides
for the catalog listing, the candidates, the lock check and the validation alike.
"""

from __future__ import annotations

from newinfra.placement import is_local_zone

# A Local Zone's zone group is disabled until the account opts in (EC2 ModifyAvailabilityZoneGroup); the zone-ID
# pattern that tells one is core (newinfra/placement.py), shared with the AWS network component.

# AWS Regions launched after 20 March 2019 are disabled until the account enables them ("Enable or disable
# AWS Regions in your account", docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
# GCP and Alibaba Cloud regions need no opt-in.
OPT_IN_REGIONS: dict[str, frozenset[str]] = {
    "aws": frozenset({
        "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1",
        "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
    }),
}

SCOPE = "opt-in"


def is_opt_in_region(cloud: str, region: str) -> bool:
    return region in OPT_IN_REGIONS.get(cloud, frozenset())


def valid_opt_in_regions() -> list[str]:
    return sorted(r for regions in OPT_IN_REGIONS.values() for r in regions)


def opt_in_reason(cloud: str, region: str, zone: str) -> str | None:
    """Why an offer there needs an opt-in ("opt-in: ..."), or None when any account may use it."""
    parts = []
    if is_opt_in_region(cloud, region):
        parts.append(f"{region} is an opt-in region (disabled until the account enables it); placed only when "
                     f"optInRegions lists it")
    if is_local_zone(cloud, zone):
        parts.append(f"{zone} is a Local Zone (its zone group must be opted in; no cluster placement groups; "
                     f"the EKS control plane stays in {region}); placed only with allowLocalZones: true")
    return f"{SCOPE}: " + "; ".join(parts) if parts else None


def allowed(cloud: str, region: str, zone: str, allow_local_zones: bool, opt_in_regions: tuple[str, ...]) -> bool:
    """Whether a request that allows these opt-ins may place an offer in (cloud, region, zone)."""
    if is_opt_in_region(cloud, region) and region not in opt_in_regions:
        return False
    return allow_local_zones or not is_local_zone(cloud, zone)
