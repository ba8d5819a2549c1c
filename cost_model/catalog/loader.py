"""Load, validate and index the packaged catalog (cost_model/catalog/data/).

Runs in every plan, so it parses with plain csv and builds its indexes once (well under a second).
Every problem in a data file is a CatalogError naming the file, line, column and value.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import io
import logging
import warnings
from collections import defaultdict
from collections.abc import Callable
from functools import cached_property, lru_cache
from pathlib import Path

from newinfra.cost_model.catalog import rates
from newinfra.cost_model.catalog.names import alias_key
from newinfra.cost_model.catalog.opt_in import SCOPE, opt_in_reason
from newinfra.cost_model.catalog.schema import Exclusion, InstanceFacts, Offer

from newinfra.facts import TPU_SLICE

DATA_DIR = Path(__file__).parent / "data"
FILES = ("aliases.csv", "egress.csv", "excluded.csv", "fx.csv", "offers.csv", "sources.csv")
CLOUDS = ("alicloud", "aws", "gcp")
STALE_AFTER_DAYS = 90
log = logging.getLogger(__name__)


class CatalogError(ValueError):
    """The catalog's data files are missing, malformed or inconsistent."""


class UnknownAccelerator(ValueError):
    """A name that is no accelerator in the catalog; the message lists the valid names."""


class StaleCatalogWarning(UserWarning):
    """The catalog's oldest price source is older than STALE_AFTER_DAYS."""


def _bool(v: str) -> bool:
    if v not in ("true", "false"):
        raise ValueError("expected true or false")
    return v == "true"


def _positive(v: str) -> float:
    x = float(v)
    if not x > 0 or x != x or x == float("inf"):
        raise ValueError("expected a positive number")
    return x


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    return lambda v: None if v == "" else parse(v)


def _count(v: str) -> int:
    n = int(v)
    if n < 1:
        raise ValueError("expected a whole number >= 1")
    return n


def _text(v: str) -> str:
    if not v:
        raise ValueError("must not be empty")
    return v


def _cloud(v: str) -> str:
    if v not in CLOUDS:
        raise ValueError(f"expected one of {list(CLOUDS)}")
    return v


# offers.csv column -> parser, in Offer field order.
OFFER_PARSERS: dict[str, Callable[[str], object]] = {
    "cloud": _cloud, "region": _text, "zone": str, "instanceType": _text, "accelerator": _text,
    "acceleratorsPerNode": _count, "acceleratorMemoryGiB": _optional(_positive), "vCPUs": _optional(_positive),
    "memoryGiB": _optional(_positive), "efa": _bool, "nvlink": _bool, "tpuTopology": _optional(_text),
    "onDemandUsd": _positive, "spotUsd": _optional(_positive), "source": _text, "asOf": _text,
}
EXCLUSION_PARSERS: dict[str, Callable[[str], object]] = {
    "cloud": _cloud, "region": str, "zone": str, "instanceType": _text, "scope": _text, "reason": _text,
}


def _rows(name: str, text: str, parsers: dict[str, Callable[[str], object]]) -> list[tuple]:
    """Parse a data file by header name; errors name file, line, column and value."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise CatalogError(f"{name}: empty file, expected header {list(parsers)}")
    missing = [c for c in parsers if c not in header]
    if missing:
        raise CatalogError(f"{name}: line 1: missing column(s) {missing}; header is {header}")
    idx = [(c, header.index(c), p) for c, p in parsers.items()]
    out = []
    for line, row in enumerate(reader, start=2):
        if len(row) != len(header):
            raise CatalogError(f"{name}: line {line}: {len(row)} fields, header has {len(header)}")
        values = []
        for col, i, parse in idx:
            try:
                values.append(parse(row[i]))
            except ValueError as err:
                raise CatalogError(f"{name}: line {line}, column {col}: bad value {row[i]!r} ({err})") from None
        out.append(tuple(values))
    return out


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None  # "catalog v8": a version, not a date


class Catalog:
    """Validated offers with the indexes the optimizer, the program and the policies query."""

    def __init__(self, files: dict[str, str]) -> None:
        self.version = "sha256:" + hashlib.sha256(
            b"".join(n.encode() + b"\0" + files[n].encode() + b"\0" for n in sorted(files))
        ).hexdigest()[:12]
        rows = [Offer(*r) for r in _rows("offers.csv", files["offers.csv"], OFFER_PARSERS)]
        self.offers: tuple[Offer, ...] = tuple(sorted(rows))
        self.excluded: tuple[Exclusion, ...] = tuple(sorted(Exclusion(*r) for r in _rows(
            "excluded.csv", files["excluded.csv"], EXCLUSION_PARSERS)))
        self.aliases: dict[str, str] = dict(_rows("aliases.csv", files["aliases.csv"],
                                                  {"alias": _text, "accelerator": _text}))
        self.sources = {r[0]: r for r in _rows("sources.csv", files["sources.csv"], {
            "id": _text, "cloud": str, "repository": _text, "commit": _text, "path": _text, "asOf": _text})}
        fx = {c: (usd, _date(d)) for c, usd, d in _rows("fx.csv", files["fx.csv"], {
            "currency": _text, "usdPer": _positive, "asOf": _text})}
        if "CNY" not in fx or fx["CNY"][1] is None:
            raise CatalogError("fx.csv: needs a CNY row with an ISO date in asOf")
        self.usd_per_cny: float = fx["CNY"][0]
        self.fx_as_of: dt.date = fx["CNY"][1]
        self._egress = {(cloud, kind): price * (1.0 if cur == "USD" else fx[cur][0])
                        for cloud, kind, price, cur in self._egress_rows(files["egress.csv"], fx)}
        self._check(rows)
        self._keys = {alias_key(a): c for a, c in self.aliases.items()}
        self.accelerators: tuple[str, ...] = tuple(sorted({o.accelerator for o in self.offers}))
        self._index()
        dates = [d for d in (_date(o.as_of) for o in self.offers) if d]
        dates += [d for d in (_date(s[5]) for s in self.sources.values()) if d]
        if not dates:
            raise CatalogError("offers.csv/sources.csv: no asOf is an ISO date")
        self.as_of: dt.date = min(dates)

    @staticmethod
    def _egress_rows(text: str, fx: dict) -> list[tuple]:
        rows = _rows("egress.csv", text, {"cloud": _cloud, "kind": _text, "price": _positive, "currency": _text})
        for line, (_, kind, _, cur) in enumerate(rows, start=2):
            if kind not in ("internet", "inter-region", "inter-continent"):
                raise CatalogError(f"egress.csv: line {line}, column kind: bad value {kind!r}")
            if cur != "USD" and cur not in fx:
                raise CatalogError(f"egress.csv: line {line}, column currency: {cur!r} has no rate in fx.csv")
        return rows

    def _check(self, rows: list[Offer]) -> None:
        """Cross-row rules: sorted unique offers, known accelerators and sources, spot at most on-demand."""
        canonical = set(self.aliases.values())
        seen: set[tuple] = set()
        for line, o in enumerate(rows, start=2):
            where = f"offers.csv: line {line} ({o.cloud}/{o.region}/{o.zone or '-'}/{o.instance_type})"
            if line > 2 and o < rows[line - 3]:
                raise CatalogError(f"{where}: out of order (the build writes offers sorted; rebuild the catalog)")
            # GCP N1 hosts carry several GPU models and counts: the accelerator is part of the key.
            key = (o.cloud, o.region, o.zone, o.instance_type, o.accelerator, o.accelerators_per_node)
            if key in seen:
                raise CatalogError(f"{where}: duplicate offer")
            seen.add(key)
            if o.accelerator not in canonical:
                raise CatalogError(f"{where}, column accelerator: {o.accelerator!r} is not in aliases.csv")
            if o.source not in self.sources:
                raise CatalogError(f"{where}, column source: {o.source!r} is not in sources.csv "
                                   f"(valid: {sorted(self.sources)})")
            if o.spot_usd is not None and o.spot_usd > o.on_demand_usd:
                raise CatalogError(f"{where}, column spotUsd: {o.spot_usd} exceeds onDemandUsd {o.on_demand_usd}")
        for cloud in CLOUDS:
            for kind in ("internet", "inter-region", "inter-continent"):
                if (cloud, kind) not in self._egress:
                    raise CatalogError(f"egress.csv: no {kind} rate for {cloud}")

    def _index(self) -> None:
        grouped: dict[str, list[Offer]] = defaultdict(list)
        for o in self.offers:
            grouped[o.accelerator].append(o)
        self._by_accelerator = {a: tuple(v) for a, v in grouped.items()}
        self._offered = {(o.cloud, o.region, o.zone, o.instance_type) for o in self.offers}
        self.__dict__.pop("_instances", None)
        self.__dict__.pop("opt_in", None)

    def with_offers(self, offers: tuple[Offer, ...], *, label: str) -> Catalog:
        """A copy whose offers are replaced (live data); its version says so: 'sha256:…+live'."""
        derived = copy.copy(self)
        derived.offers = tuple(sorted(offers))
        derived.version = f"{self.version}+{label}"
        derived._index()
        return derived

    @cached_property
    def opt_in(self) -> tuple[Exclusion, ...]:
        """Offers only an account that opted in may use (Local Zones, opt-in regions), as rows of scope
        "opt-in" with the reason: derived from the offers by one rule (opt_in.py), so a live catalog has them too."""
        rows = {Exclusion(o.cloud, o.region, o.zone, o.instance_type, SCOPE, reason) for o in self.offers
                if (reason := opt_in_reason(o.cloud, o.region, o.zone)) is not None}
        return tuple(sorted(rows))

    # --- queries ----------------------------------------------------------------------------------
    def normalise_accelerator(self, name: str) -> str:
        """'h100', 'nvidia-h100-80gb', 'H100' -> 'H100'; raises UnknownAccelerator listing valid names."""
        found = self._keys.get(alias_key(str(name)))
        if found is None and (tpu := TPU_SLICE.match(str(name).lower())):  # tpu-v5litepod-8: its generation
            found = self._keys.get(alias_key(f"tpu-{tpu.group(1)}"))
        if found is None:
            raise UnknownAccelerator(
                f"unknown accelerator {name!r}; valid: {', '.join(self.accelerators)} "
                f"(aliases such as 'nvidia-h100-80gb' or 'v5e' work too)"
            )
        return found

    def offers_for(self, accelerator: str) -> tuple[Offer, ...]:
        return self._by_accelerator.get(self.normalise_accelerator(accelerator), ())

    @cached_property
    def _instances(self) -> dict[tuple[str, str], tuple[InstanceFacts, ...]]:
        zones: dict[tuple, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        first: dict[tuple, Offer] = {}
        for o in self.offers:
            key = (o.cloud, o.instance_type, o.accelerator, o.accelerators_per_node)
            first.setdefault(key, o)
            region_zones = zones[key][o.region]
            if o.zone:
                region_zones.add(o.zone)
        out: dict[tuple[str, str], list[InstanceFacts]] = defaultdict(list)
        for key, o in sorted(first.items()):
            out[key[:2]].append(InstanceFacts(
                o.cloud, o.instance_type, o.accelerator, o.accelerators_per_node, o.accelerator_memory_gib,
                o.vcpus, o.memory_gib, o.efa, o.nvlink, o.tpu_topology,
                tuple((r, tuple(sorted(z))) for r, z in sorted(zones[key].items()))))
        return {k: tuple(v) for k, v in out.items()}

    def instance(self, cloud: str, instance_type: str, accelerator: str | None = None,
                 accelerators_per_node: int | None = None) -> InstanceFacts | None:
        """Specs and zones of a type; None when not offered. GCP N1 hosts take several GPU models and
        counts: name the accelerator (and count) there, else a ValueError lists the combinations."""
        facts = [f for f in self._instances.get((cloud, instance_type), ())
                 if (accelerator is None or f.accelerator == self.normalise_accelerator(accelerator))
                 and (accelerators_per_node is None or f.accelerators_per_node == accelerators_per_node)]
        if len(facts) > 1:
            combos = sorted(f"{f.accelerator} x{f.accelerators_per_node}" for f in facts)
            raise ValueError(f"{cloud} {instance_type} carries several accelerators; pass one of {combos}")
        return facts[0] if facts else None

    def offered(self, cloud: str, region: str, zone: str, instance_type: str) -> bool:
        """Whether the type is offered there. Alibaba rows have no zone: any zone of the region matches."""
        return (cloud, region, zone, instance_type) in self._offered or \
            (cloud, region, "", instance_type) in self._offered

    def regions(self, cloud: str) -> tuple[str, ...]:
        return tuple(sorted({o.region for o in self.offers if o.cloud == cloud}))

    def egress_usd_per_gb(self, src_cloud: str, src_region: str, dst_cloud: str, dst_region: str) -> float:
        """USD per GB read from (src_cloud, src_region) by compute in (dst_cloud, dst_region)."""
        for c in (src_cloud, dst_cloud):
            if c not in CLOUDS:
                raise ValueError(f"unknown cloud {c!r}; valid: {list(CLOUDS)}")
        if src_cloud != dst_cloud:
            return self._egress[(src_cloud, "internet")]
        if src_region == dst_region:
            return 0.0
        same = rates.continent(src_region) == rates.continent(dst_region)
        return self._egress[(src_cloud, "inter-region" if same else "inter-continent")]

    def age_days(self, today: dt.date | None = None) -> int:
        return ((today or dt.date.today()) - self.as_of).days


def read_files(path: Path) -> dict[str, str]:
    files = {}
    for name in FILES:
        f = path / name
        try:
            files[name] = f.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CatalogError(f"{f}: missing catalog file (a catalog folder holds {list(FILES)})") from None
        except UnicodeDecodeError as err:
            raise CatalogError(f"{f}: not UTF-8 text at byte {err.start}: corrupt file") from None
    return files


def rebuild_command() -> str:
    """A command that runs as written where the user is: this interpreter (relative when it is below the
    current directory, like .venv/bin/python) and the build, which finds ../shared/reference/catalog itself."""
    import os
    import sys

    python = Path(sys.executable)
    try:
        shown = str(python.relative_to(Path.cwd()))
    except ValueError:
        shown = str(python)
    return f"{shown if os.sep in shown else './' + shown} -m newinfra.cost_model.catalog.build"


REBUILD_HINT = "refresh the reference prices, then rebuild with `{command}` (--source DIR for another folder)"


def stale_message(cat: Catalog, today: dt.date | None = None) -> str | None:
    age = cat.age_days(today)
    if age <= STALE_AFTER_DAYS:
        return None
    return (f"price catalog {cat.version} is {age} days old (oldest source {cat.as_of.isoformat()}, "
            f"limit {STALE_AFTER_DAYS}): {REBUILD_HINT.format(command=rebuild_command())}")


def warn_if_stale(cat: Catalog, today: dt.date | None = None) -> None:
    msg = stale_message(cat, today)
    if msg:
        warnings.warn(msg, StaleCatalogWarning, stacklevel=4)
        log.warning(msg)


@lru_cache(maxsize=8)
def _load(path: str) -> Catalog:
    cat = Catalog(read_files(Path(path)))
    warn_if_stale(cat)
    return cat


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at ``path`` (default: the packaged data), validated; cached per path."""
    return _load(str(Path(path or DATA_DIR).resolve()))
