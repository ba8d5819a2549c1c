"""Load and validate the price book (cost_model/pricebook/data/); answer price look-ups.

Every row must carry a source and an ISO as-of date, and a currency that is USD or has a rate in the
catalog's fx.csv (the one FX table): otherwise PriceBookError names the file, line, key and value. Prices
are converted to USD here, once. Instance prices of accelerator types come from the accelerator catalog
(offers.csv, host + accelerators for GCP), the rest from instances.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from newinfra.cost_model.catalog.loader import DATA_DIR as CATALOG_DIR

DATA_DIR = Path(__file__).parent / "data"
FILES = ("services.csv", "instances.csv", "excluded.csv")


class PriceBookError(ValueError):
    """A price book file is missing or a row is unusable; the message names file, line, key and value."""


@dataclass(frozen=True)
class Price:
    """A unit price in USD with where it comes from. ``assumption`` says when the row was made for another
    region than the one priced (services.csv holds us-east-1 / us-central1 list prices)."""

    usd: float
    unit: str
    source: str
    as_of: str
    quality: str = ""
    assumption: str = ""


def _fx(path: Path) -> dict[str, float]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = {"USD": 1.0}
    for line, row in enumerate(rows, start=2):
        try:
            out[row["currency"]] = float(row["usdPer"])
        except (KeyError, ValueError):
            raise PriceBookError(f"{path}: line {line}: bad usdPer {row.get('usdPer')!r}") from None
    return out


def _date(file: str, line: int, key: str, value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise PriceBookError(f"{file}: line {line}, key {key}: asOf {value!r} is not a date (YYYY-MM-DD); "
                             "every price needs the date it was read") from None
    return value


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PriceBookError(f"{path}: missing price book file (a price book holds {list(FILES)})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise PriceBookError(f"{path}: line 1: missing column(s) {missing}; header is {reader.fieldnames}")
    return list(enumerate(reader, start=2))


def _checked(path: Path, line: int, key: str, row: dict[str, str], fx: dict[str, float], price_col: str) -> float:
    if not (row.get("source") or "").strip():
        raise PriceBookError(f"{path}: line {line}, key {key}: no source; every price needs one")
    _date(str(path), line, key, row.get("asOf") or "")
    if row["currency"] not in fx:
        raise PriceBookError(f"{path}: line {line}, key {key}: currency {row['currency']!r} has no rate; "
                             f"valid: {sorted(fx)} (add a rate to {CATALOG_DIR / 'fx.csv'})")
    try:
        value = float(row[price_col])
    except ValueError:
        raise PriceBookError(f"{path}: line {line}, key {key}: {price_col} {row[price_col]!r} is not a number") from None
    if value < 0 or value != value:
        raise PriceBookError(f"{path}: line {line}, key {key}: {price_col} {value} is negative")
    return value * fx[row["currency"]]


class PriceBook:
    def __init__(self, path: Path = DATA_DIR, fx_path: Path = CATALOG_DIR / "fx.csv") -> None:
        fx = _fx(fx_path)
        self._services: dict[str, dict[str, Price]] = {}
        for line, row in _rows(path / "services.csv", ("key", "scope", "unit", "price", "currency", "asOf",
                                                       "quality", "source")):
            key = row["key"] or f"<line {line}>"
            usd = _checked(path / "services.csv", line, key, row, fx, "price")
            self._services.setdefault(row["key"], {})[row["scope"]] = Price(
                usd, row["unit"], row["source"], row["asOf"], row["quality"])
        self._instances: dict[tuple[str, str, str], tuple[Price, Price | None]] = {}
        for line, row in _rows(path / "instances.csv", ("cloud", "region", "instanceType", "onDemand", "spot",
                                                        "currency", "asOf", "source")):
            key = f"{row['cloud']}/{row['region']}/{row['instanceType']}"
            od = _checked(path / "instances.csv", line, key, row, fx, "onDemand")
            spot = _checked(path / "instances.csv", line, key, row, fx, "spot") if row["spot"] else None
            self._instances[(row["cloud"], row["region"], row["instanceType"])] = (
                Price(od, "instance-hour", row["source"], row["asOf"]),
                Price(spot, "instance-hour", row["source"], row["asOf"]) if spot is not None else None)
        self.excluded = tuple(row for _, row in _rows(path / "excluded.csv", ("file", "line", "what", "reason")))

    def service(self, key: str, cloud: str, region: str) -> Price | None:
        """The price of ``key`` in ``region``: its own row, a row for every region, Alibaba's China or
        international site row; else the row of another region with the assumption said; else None."""
        rows = self._services.get(key)
        if not rows:
            return None
        site = "cn-mainland" if region.startswith("cn-") else "intl"
        for scope in (region, "*", *((site,) if cloud == "alicloud" else ())):
            if scope in rows:
                return rows[scope]
        scope = sorted(rows)[0]
        price = rows[scope]
        return Price(price.usd, price.unit, price.source, price.as_of, price.quality,
                     f"{scope} list price used for {region or 'an unknown region'}")

    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(self._services))

    def instance(self, cloud: str, region: str, instance_type: str, spot: bool = False) -> Price | None:
        """Hourly price of a non-accelerator instance type (instances.csv); spot where the pool is spot
        and the source has a spot price. None: not priced there."""
        found = self._instances.get((cloud, region, instance_type))
        if found is None:
            return None
        od, sp = found
        return sp if spot and sp is not None else od


@lru_cache(maxsize=4)
def _load(path: str) -> PriceBook:
    return PriceBook(Path(path))


def load_pricebook(path: str | Path | None = None) -> PriceBook:
    """The price book at ``path`` (default: the packaged data), validated; cached per path."""
    return _load(str(Path(path or DATA_DIR).resolve()))
