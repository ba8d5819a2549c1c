"""Prices that are not in the reference data: the CNY rate and per-GB data transfer list prices.

Written into data/ by the build so that the catalog version covers them. Each line names its public
source page and the date it was read; they are first-tier list prices (volume tiers are lower).
"""

from __future__ import annotations

# Alibaba's list prices are CNY. Rate: USD/CNY onshore close of 2024-12-31 (about 7.30 CNY per USD),
# the date of the Alibaba price file.
FX = ({"currency": "CNY", "usdPer": "0.137", "asOf": "2024-12-31",
       "source": "USD/CNY onshore close 2024-12-31 (7.30 CNY per USD), rounded to 3 places"},)

# kind: internet (to the internet, also to another cloud), inter-region (same cloud, same continent),
# inter-continent (same cloud, different continent). Same region: free (not listed).
EGRESS = (
    {"cloud": "aws", "kind": "internet", "price": "0.09", "currency": "USD", "asOf": "2025-06-01",
     "source": "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer OUT to Internet, first 10 TB)"},
    {"cloud": "aws", "kind": "inter-region", "price": "0.02", "currency": "USD", "asOf": "2025-06-01",
     "source": "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer to other AWS regions)"},
    {"cloud": "aws", "kind": "inter-continent", "price": "0.02", "currency": "USD", "asOf": "2025-06-01",
     "source": "https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer to other AWS regions)"},
    {"cloud": "gcp", "kind": "internet", "price": "0.12", "currency": "USD", "asOf": "2025-06-01",
     "source": "https://cloud.google.com/vpc/network-pricing (Premium Tier internet egress, 0-1 TiB)"},
    {"cloud": "gcp", "kind": "inter-region", "price": "0.02", "currency": "USD", "asOf": "2025-06-01",
     "source": "https://cloud.google.com/vpc/network-pricing (inter-region, within a continent)"},
    {"cloud": "gcp", "kind": "inter-continent", "price": "0.08", "currency": "USD", "asOf": "2025-06-01",
     "source": "https://cloud.google.com/vpc/network-pricing (inter-region, between continents)"},
    {"cloud": "alicloud", "kind": "internet", "price": "0.8", "currency": "CNY", "asOf": "2024-12-31",
     "source": "https://www.alibabacloud.com/help/en/ecs/public-bandwidth (pay-by-traffic, mainland China)"},
    {"cloud": "alicloud", "kind": "inter-region", "price": "0.8", "currency": "CNY", "asOf": "2024-12-31",
     "source": "https://www.alibabacloud.com/help/en/ecs/public-bandwidth (no private cross-region link "
               "without CEN: priced as public traffic)"},
    {"cloud": "alicloud", "kind": "inter-continent", "price": "0.8", "currency": "CNY", "asOf": "2024-12-31",
     "source": "https://www.alibabacloud.com/help/en/ecs/public-bandwidth (as inter-region)"},
)

# Region name prefix -> continent, for the inter-region vs inter-continent rate.
CONTINENTS: dict[str, str] = {
    "us": "north-america", "northamerica": "north-america", "ca": "north-america",
    "southamerica": "south-america", "sa": "south-america", "mx": "north-america",
    "europe": "europe", "eu": "europe", "me": "middle-east", "il": "middle-east", "africa": "africa",
    "af": "africa", "asia": "asia", "ap": "asia", "cn": "asia", "australia": "oceania",
}


def continent(region: str) -> str:
    return CONTINENTS.get(region.split("-", 1)[0], region.split("-", 1)[0])
