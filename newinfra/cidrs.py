"""How much of the public internet a list of CIDRs admits: address space, not spelling.

``0.0.0.0/0``, ``0::/0``, ``0.0.0.0/1`` + ``128.0.0.0/1``, ``1.2.3.4/0`` (host bits set) and
``0000:0000::/0`` all admit the whole internet; comparing strings catches only the first. Every rule and
config guard that asks "is this open to the internet?" asks :func:`judge` instead: the union of the
listed ranges is computed with :mod:`ipaddress`, the special-purpose blocks nobody on the internet can
come from (private, loopback, link-local, documentation, multicast, ...) are taken out, and what is left
is compared with a limit: by default the public space of one IPv4 /20 and one IPv6 /48 (an office, a VPN
egress range, or a provider's published range such as Google IAP's 35.235.240.0/20). Anything wider is
"open to the internet".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Widest public range a list may admit without counting as open to the internet (prefix lengths).
DEFAULT_LIMIT = {"ipv4": 20, "ipv6": 48}
LIMIT_SCHEMA = {
    "type": "object", "additionalProperties": False, "default": dict(DEFAULT_LIMIT),
    "properties": {"ipv4": {"type": "integer", "minimum": 0, "maximum": 32},
                   "ipv6": {"type": "integer", "minimum": 0, "maximum": 128}},
    "description": "widest public address space (as a prefix length per family) a CIDR list may admit "
                   "before it counts as open to the internet; the union of all listed public ranges counts",
}

# IANA special-purpose blocks no internet client comes from (RFC 6890 and successors). IPv4-mapped
# IPv6 (::ffff:0:0/96) is deliberately NOT here: it carries IPv4 internet clients.
_NOT_PUBLIC_V4 = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                  "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
                  "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")
_NOT_PUBLIC_V6 = ("::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8")
NOT_PUBLIC: dict[int, list[Network]] = {
    4: list(ipaddress.collapse_addresses(ipaddress.IPv4Network(n) for n in _NOT_PUBLIC_V4)),
    6: list(ipaddress.collapse_addresses(ipaddress.IPv6Network(n) for n in _NOT_PUBLIC_V6)),
}


def _public_size(net: Network) -> int:
    """Addresses of ``net`` outside the special-purpose blocks (which are disjoint after collapsing)."""
    size = net.num_addresses
    for block in NOT_PUBLIC[net.version]:
        if net.subnet_of(block):  # type: ignore[arg-type]
            return 0
        if block.subnet_of(net):  # type: ignore[arg-type]
            size -= block.num_addresses
    return size


PUBLIC_TOTAL = {4: _public_size(ipaddress.ip_network("0.0.0.0/0")), 6: _public_size(ipaddress.ip_network("::/0"))}


def parse(value: Any) -> Network | None:
    """A CIDR (or a bare address) in any spelling the clouds accept; None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


@dataclass(frozen=True)
class Judgement:
    """What a CIDR list admits: public addresses per family, the entries that contribute them, and
    entries that are no CIDR at all (the rule cannot judge those, so it says so)."""

    public: Mapping[int, int]
    contributing: tuple[str, ...]
    invalid: tuple[str, ...]
    open_families: tuple[int, ...]

    @property
    def open(self) -> bool:
        return bool(self.open_families)

    def describe(self) -> str:
        """``0.0.0.0/1, 128.0.0.0/1 (all of public IPv4)`` for a finding."""
        parts = []
        for family in self.open_families:
            n = self.public[family]
            scope = f"all of public IPv{family}" if n >= PUBLIC_TOTAL[family] else \
                f"{n:,} public IPv{family} addresses ({100 * n / PUBLIC_TOTAL[family]:.3g}% of them)"
            parts.append(scope)
        return f"{', '.join(self.contributing)} ({'; '.join(parts)})"


def limit_of(value: Any, where: str = "publicCidrLimit") -> dict[str, int]:
    """The limit as {ipv4, ipv6} prefix lengths; ValueError naming ``where`` for anything else."""
    if value is None:
        return dict(DEFAULT_LIMIT)
    if not isinstance(value, Mapping) or set(value) - set(DEFAULT_LIMIT):
        raise ValueError(f"{where}: {value!r} is not valid; valid: an object with ipv4 (0-32) and/or ipv6 (0-128) "
                         "prefix lengths, e.g. {'ipv4': 20, 'ipv6': 48}")
    out = dict(DEFAULT_LIMIT)
    for family, top in (("ipv4", 32), ("ipv6", 128)):
        if family in value:
            v = value[family]
            if isinstance(v, float) and v.is_integer():
                v = int(v)  # pulumi-policy hands numbers over as floats
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= top:
                raise ValueError(f"{where}.{family}: {v!r} is not valid; valid: a prefix length from 0 to {top}")
            out[family] = v
    return out


def judge(cidrs: Iterable[Any], limit: Mapping[str, Any] | None = None) -> Judgement:
    """The union of ``cidrs`` (None and '' ignored) against ``limit`` (default :data:`DEFAULT_LIMIT`)."""
    bounds = limit_of(limit)
    nets: dict[int, list[Network]] = {4: [], 6: []}
    spelled: dict[int, list[tuple[str, Network]]] = {4: [], 6: []}
    invalid: list[str] = []
    for c in cidrs:
        if c is None or c == "":
            continue
        net = parse(c)
        if net is None:
            invalid.append(str(c))
            continue
        nets[net.version].append(net)
        spelled[net.version].append((str(c).strip(), net))
    public: dict[int, int] = {}
    open_families: list[int] = []
    contributing: list[str] = []
    for family, key in ((4, "ipv4"), (6, "ipv6")):
        # one family per list, which collapse_addresses needs (its type says so; the union type cannot)
        same_family: list[Any] = nets[family]
        public[family] = sum(_public_size(n) for n in ipaddress.collapse_addresses(same_family))
        allowed = 2 ** ((32 if family == 4 else 128) - bounds[key])
        if public[family] > allowed:
            open_families.append(family)
            contributing.extend(s for s, n in spelled[family] if _public_size(n))
    return Judgement(public, tuple(dict.fromkeys(contributing)), tuple(invalid), tuple(open_families))


def open_to_internet(cidrs: Iterable[Any], limit: Mapping[str, Any] | None = None) -> bool:
    return judge(cidrs, limit).open
