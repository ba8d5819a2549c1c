"""Quota families and units: what an offer counts against, in the unit each cloud counts.

AWS counts running vCPUs per instance-family class (P, G and VT, Inf, Trn, DL, F), separately for
on-demand and spot. GCP counts GPUs per model and region (preemptible/spot separately) and TPU chips
per generation. Alibaba counts vCPUs per instance family. A config ``Quota(cloud, region, family,
market, limit)`` matches offers whose ``quota_family`` equals its family.
"""

from __future__ import annotations

from newinfra.cost_model.catalog.schema import Offer

from newinfra.facts import family_facts

MARKETS = ("on-demand", "spot")

# AWS Service Quotas codes (service "ec2"), per class and market; the live check reads these.
AWS_QUOTA_CODES: dict[tuple[str, str], str] = {
    ("P", "on-demand"): "L-417A185B", ("P", "spot"): "L-7212CCBC",
    ("G", "on-demand"): "L-DB2E81BA", ("G", "spot"): "L-3819A6DF",
    ("Inf", "on-demand"): "L-1945791B", ("Inf", "spot"): "L-B5D1601B",
    ("Trn", "on-demand"): "L-2C3B7624", ("Trn", "spot"): "L-6B0D517C",
    ("DL", "on-demand"): "L-6E869C2A", ("DL", "spot"): "L-85EED4F7",
    ("F", "on-demand"): "L-74FC7D96", ("F", "spot"): "L-88CF9481",
}
AWS_QUOTA_CLASSES: tuple[str, ...] = tuple(sorted({c for c, _ in AWS_QUOTA_CODES}))

# GCP counts A3 Mega's H100s apart from A3 High's (quota metric NVIDIA_H100_MEGA_GPUS).
GCP_FAMILY_QUOTA: dict[str, str] = {"a3-megagpu": "H100-MEGA"}


def _market(market: str) -> str:
    if market not in MARKETS:
        raise ValueError(f"market {market!r} is not one of {list(MARKETS)}")
    return market


def quota_family(offer: Offer, market: str) -> str:
    """The quota family this offer counts against in ``market`` (the market picks the separate pool:
    AWS spot codes, GCP preemptible metrics; the family name is the same in both)."""
    _market(market)
    if offer.cloud == "aws":
        facts = family_facts("aws", offer.family)
        if facts is None or facts.aws_quota_class is None:
            raise ValueError(f"aws family {offer.family!r} ({offer.instance_type}) has no quota class in "
                             f"newinfra/facts.py")
        return facts.aws_quota_class
    if offer.cloud == "gcp":
        return GCP_FAMILY_QUOTA.get(offer.family, offer.accelerator)
    return offer.family


def quota_units(offer: Offer) -> float:
    """How much one node uses: AWS and Alibaba vCPUs; GCP GPUs per VM or TPU chips per slice."""
    if offer.cloud == "gcp":
        return float(offer.accelerators_per_node)
    if offer.vcpus is None:
        raise ValueError(f"{offer.cloud} {offer.instance_type}: no vCPU count, cannot count its quota")
    return float(offer.vcpus)


def quota_code(offer: Offer, market: str) -> str:
    """The cloud's own name for the quota: AWS Service Quotas code, GCP metric, Alibaba family."""
    family = quota_family(offer, _market(market))
    if offer.cloud == "aws":
        return AWS_QUOTA_CODES[(family, market)]
    if offer.cloud == "gcp":
        if family.startswith("tpu-"):
            return f"{family} chips" + (" (preemptible)" if market == "spot" else "")
        metric = "NVIDIA_" + family.replace("-", "_") + "_GPUS"
        return ("PREEMPTIBLE_" if market == "spot" else "") + metric
    return f"ecs {family} vCPUs"
