"""Live AWS data for ``newinfra place --live``: offerings per AZ ID, current spot prices, GPU quotas.

Offline the catalog's offers and the config's ``quotas`` are used. With credentials, ``live_overrides``
asks EC2 which catalog types are offered in which AZ IDs now, the latest Linux spot price per AZ, and
Service Quotas for the GPU vCPU classes; ``LiveData.apply`` turns that into the offers the optimizer
sees. Prices still go through the catalog's plausibility rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from newinfra.cost_model.catalog.build import SPOT_FLOOR
from newinfra.cost_model.catalog.loader import Catalog, load_catalog
from newinfra.cost_model.catalog.quota import AWS_QUOTA_CODES
from newinfra.cost_model.catalog.schema import Offer
from newinfra.cost_model.request import Quota

OS = "Linux/UNIX"
BATCH = 100  # instance-type filter values per request


class LiveDataError(RuntimeError):
    """A live lookup failed (credentials, permissions, throttling); the message names region and call."""


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), BATCH):
        yield items[i:i + BATCH]


def zone_offerings(ec2, instance_types: Iterable[str]) -> frozenset[tuple[str, str]]:
    """(AZ ID, instance type) pairs EC2 offers now in the client's region."""
    out: set[tuple[str, str]] = set()
    pages = ec2.get_paginator("describe_instance_type_offerings")
    for chunk in _chunks(sorted(set(instance_types))):
        for page in pages.paginate(LocationType="availability-zone-id",
                                   Filters=[{"Name": "instance-type", "Values": chunk}]):
            out |= {(o["Location"], o["InstanceType"]) for o in page["InstanceTypeOfferings"]}
    return frozenset(out)


def zone_ids(ec2) -> dict[str, str]:
    """AZ name -> AZ ID for this account (the mapping differs per account)."""
    zones = ec2.describe_availability_zones(AllAvailabilityZones=True)["AvailabilityZones"]
    return {z["ZoneName"]: z["ZoneId"] for z in zones}


def spot_prices(ec2, instance_types: Iterable[str], *, now: dt.datetime,
                names_to_ids: dict[str, str]) -> dict[tuple[str, str], float]:
    """Latest Linux spot price per (AZ ID, instance type). The API reports AZ names; we key by ID."""
    latest: dict[tuple[str, str], tuple[dt.datetime, float]] = {}
    for chunk in _chunks(sorted(set(instance_types))):
        kwargs = {"InstanceTypes": chunk, "ProductDescriptions": [OS], "StartTime": now}
        while True:
            page = ec2.describe_spot_price_history(**kwargs)
            for p in page["SpotPriceHistory"]:
                zone_id = names_to_ids.get(p["AvailabilityZone"])
                if zone_id is None:
                    continue  # a zone this account cannot see
                key = (zone_id, p["InstanceType"])
                if key not in latest or p["Timestamp"] > latest[key][0]:
                    latest[key] = (p["Timestamp"], float(p["SpotPrice"]))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return {k: v for k, (_, v) in sorted(latest.items())}


def gpu_quotas(service_quotas, region: str) -> tuple[Quota, ...]:
    """Applied EC2 vCPU quotas for the GPU classes (P, G and VT, Inf, Trn, DL, F), both markets."""
    out = []
    for (family, market), code in sorted(AWS_QUOTA_CODES.items()):
        value = service_quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]["Value"]
        out.append(Quota(cloud="aws", region=region, family=family, market=market, limit=float(value)))
    return tuple(out)


@dataclass(frozen=True)
class LiveData:
    regions: tuple[str, ...]
    offered: frozenset[tuple[str, str, str]]  # (region, AZ ID, instance type)
    spot_usd: dict[tuple[str, str, str], float] = field(default_factory=dict)
    quotas: tuple[Quota, ...] = ()

    def apply(self, offers: Iterable[Offer]) -> tuple[Offer, ...]:
        """AWS offers in the live regions: drop those not offered now, take the live spot price when
        it is plausible (at most on-demand, at least SPOT_FLOOR of it). Other offers unchanged."""
        out = []
        for o in offers:
            if o.cloud != "aws" or o.region not in self.regions:
                out.append(o)
                continue
            key = (o.region, o.zone, o.instance_type)
            if key not in self.offered:
                continue
            spot = self.spot_usd.get(key)
            if spot is not None and SPOT_FLOOR * o.on_demand_usd <= spot <= o.on_demand_usd:
                o = replace(o, spot_usd=spot, source=f"{o.source}+live")
            out.append(o)
        return tuple(sorted(out))

    def catalog(self, base: Catalog) -> Catalog:
        return base.with_offers(self.apply(base.offers), label="live")


def live_overrides(regions: Iterable[str], *, catalog: Catalog | None = None, session=None,
                   now: dt.datetime | None = None, quotas: bool = True) -> LiveData:
    """Ask AWS about the catalog's types in ``regions``. ``session``: a boto3 Session (default one
    if None). Failures raise LiveDataError naming the region and the call."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    catalog = catalog or load_catalog()
    session = session or boto3.Session()
    now = now or dt.datetime.now(dt.UTC)
    offered: set[tuple[str, str, str]] = set()
    spot: dict[tuple[str, str, str], float] = {}
    found: list[Quota] = []
    for region in sorted(set(regions)):
        types = sorted({o.instance_type for o in catalog.offers if o.cloud == "aws" and o.region == region})
        call = "ec2:DescribeInstanceTypeOfferings"
        try:
            ec2 = session.client("ec2", region_name=region)
            offered |= {(region, z, t) for z, t in zone_offerings(ec2, types)}
            call = "ec2:DescribeSpotPriceHistory"
            ids = zone_ids(ec2)
            spot |= {(region, z, t): p for (z, t), p in spot_prices(ec2, types, now=now, names_to_ids=ids).items()}
            if quotas:
                call = "servicequotas:GetServiceQuota"
                found += gpu_quotas(session.client("service-quotas", region_name=region), region)
        except (BotoCoreError, ClientError) as err:
            raise LiveDataError(f"--live: {call} in {region} failed: {err}") from err
    return LiveData(tuple(sorted(set(regions))), frozenset(offered), spot, tuple(found))
