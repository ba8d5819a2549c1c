"""AWS availability zones (name <-> AZ ID per region) from the AWS emulator's tables (moto).

Importing moto costs over a second, which every offline plan would pay; the tables are extracted once into
data/aws_zones.json (`python -m newinfra.offline.aws_zones`) and a test keeps the file equal to moto's.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "aws_zones.json"


def extract() -> dict[str, list[dict[str, str]]]:
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    return {region: [{"name": z.name, "zoneId": z.zone_id} for z in sorted(zones, key=lambda z: z.name)]
            for region, zones in sorted(RegionsAndZonesBackend.zones.items())}


def render(tables: dict) -> str:
    return json.dumps(tables, indent=1, sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def zones() -> dict[str, list[dict[str, str]]]:
    return json.loads(DATA.read_text())


if __name__ == "__main__":
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(render(extract()))
    print(f"wrote {DATA}")
