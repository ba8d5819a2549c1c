"""`--exclude CLOUD/REGION[/ZONE][:TYPE]`: offers taken out of a re-plan after a capacity error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from newinfra.cost_model.catalog.schema import Offer

from newinfra.placement import CLOUDS

_PATTERN = re.compile(r"^(?P<cloud>[a-z]+)/(?P<region>[a-z0-9-]+)(?:/(?P<zone>[a-z0-9-]+))?(?::(?P<type>[\w.-]+))?$")


@dataclass(frozen=True, order=True)
class Exclusion:
    cloud: str
    region: str
    zone: str = ""  # "" = every zone of the region
    instance_type: str = ""  # "" = every type

    @classmethod
    def parse(cls, text: str) -> Exclusion:
        m = _PATTERN.match(text.strip())
        if not m or m["cloud"] not in CLOUDS:
            from newinfra.inputs import echo, listing

            raise ValueError(
                f"--exclude: {echo(text)} is not CLOUD/REGION[/ZONE][:TYPE] with CLOUD one of {listing(CLOUDS)}, "
                "e.g. aws/us-east-1/use1-az4:p5.48xlarge"
            )
        return cls(m["cloud"], m["region"], m["zone"] or "", m["type"] or "")

    def matches(self, offer: Offer) -> bool:
        return (
            offer.cloud == self.cloud
            and offer.region == self.region
            and (not self.zone or self.zone in offer.zone.split("+"))  # a region-level offer: any of its zones
            and (not self.instance_type or offer.instance_type == self.instance_type)
        )

    def __str__(self) -> str:
        zone = f"/{self.zone}" if self.zone else ""
        kind = f":{self.instance_type}" if self.instance_type else ""
        return f"{self.cloud}/{self.region}{zone}{kind}"


def parse_exclusions(texts: list[str] | tuple[str, ...]) -> tuple[Exclusion, ...]:
    """Parsed, de-duplicated and sorted so the lock records them byte-stably."""
    return tuple(sorted({Exclusion.parse(t) for t in texts}))


def unknown_targets(exclusions: tuple[Exclusion, ...], catalog) -> list[str]:
    """An exclusion that matches no offer of the catalog (a typo) would exclude nothing: one line each."""
    from newinfra.inputs import did_you_mean, listing

    out = []
    for e in exclusions:
        offers = [o for o in catalog.offers if o.cloud == e.cloud]
        regions = sorted({o.region for o in offers})
        in_region = [o for o in offers if o.region == e.region]
        zones = sorted({o.zone for o in in_region if o.zone})
        types = sorted({o.instance_type for o in in_region if not e.zone or o.zone in (e.zone, "")})
        if not in_region:
            out.append(f"--exclude {e}: {e.region!r} is not a region of {e.cloud} in the catalog"
                       f"{did_you_mean(e.region, regions)}; valid: {listing(regions)}")
        elif e.zone and zones and e.zone not in zones:
            out.append(f"--exclude {e}: {e.zone!r} is not a zone of {e.cloud}/{e.region} in the catalog"
                       f"{did_you_mean(e.zone, zones)}; valid: {listing(zones)}")
        elif e.instance_type and e.instance_type not in types:
            out.append(f"--exclude {e}: {e.instance_type!r} is not offered there"
                       f"{did_you_mean(e.instance_type, types)}; valid: {listing(types)}")
    return out
