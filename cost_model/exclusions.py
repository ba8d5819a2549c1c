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
            raise ValueError(
                f"--exclude: {text!r} is not CLOUD/REGION[/ZONE][:TYPE] with CLOUD one of {list(CLOUDS)}, "
                "e.g. aws/us-east-1/use1-az4:p5.48xlarge"
            )
        return cls(m["cloud"], m["region"], m["zone"] or "", m["type"] or "")

    def matches(self, offer: Offer) -> bool:
        return (
            offer.cloud == self.cloud
            and offer.region == self.region
            and (not self.zone or offer.zone == self.zone)
            and (not self.instance_type or offer.instance_type == self.instance_type)
        )

    def __str__(self) -> str:
        zone = f"/{self.zone}" if self.zone else ""
        kind = f":{self.instance_type}" if self.instance_type else ""
        return f"{self.cloud}/{self.region}{zone}{kind}"


def parse_exclusions(texts: list[str] | tuple[str, ...]) -> tuple[Exclusion, ...]:
    """Parsed, de-duplicated and sorted so the lock records them byte-stably."""
    return tuple(sorted({Exclusion.parse(t) for t in texts}))
