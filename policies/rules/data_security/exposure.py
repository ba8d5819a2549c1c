"""Two facts the coverage rules share: whether a list of CIDRs opens a service to the internet, and
whether an instance type carries accelerators.

CIDRs are judged by the address space they cover (``0.0.0.0/1`` + ``128.0.0.0/1`` is the whole internet
too), not by comparing strings. Private, loopback and link-local space does not count as internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from newinfra.policies.rules.pools import ACCELERATOR_PREFIXES

# A union of public ranges wider than this many addresses (one /8 in IPv4, one /32 in IPv6) is "the internet".
MAX_PUBLIC_V4 = 2 ** 24
MAX_PUBLIC_V6 = 2 ** 96


def _networks(cidrs: Iterable[Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for c in cidrs:
        if not isinstance(c, str) or not c.strip():
            continue
        try:
            out.append(ipaddress.ip_network(c.strip(), strict=False))
        except ValueError:
            continue  # not a CIDR (a security group id, a tag): nothing this helper can judge
    return out


def _public_size(nets: list) -> int:
    """Addresses in ``nets`` outside private/reserved space, counted once (overlaps collapsed)."""
    size = 0
    for net in ipaddress.collapse_addresses(nets):
        if net.is_private or net.is_loopback or net.is_link_local:
            continue
        size += net.num_addresses
    return size


def open_to_internet(cidrs: Iterable[Any]) -> bool:
    """Whether the CIDRs, together, cover more public addresses than a /8 (IPv4) or a /32 (IPv6)."""
    nets = _networks(cidrs)
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    return (bool(v4) and _public_size(v4) > MAX_PUBLIC_V4) or (bool(v6) and _public_size(v6) > MAX_PUBLIC_V6)


def accelerated_type(cloud: str, instance_type: Any) -> bool:
    """Whether an instance/machine type belongs to a GPU, TPU or other accelerator family."""
    return isinstance(instance_type, str) and instance_type.startswith(ACCELERATOR_PREFIXES.get(cloud, ()))
