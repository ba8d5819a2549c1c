"""Price catalog: offers per cloud, region, zone and instance type, with aliases, egress and FX rates."""

from cost_model.catalog.loader import (
    Catalog,
    CatalogError,
    StaleCatalogWarning,
    UnknownAccelerator,
    load_catalog,
)
from cost_model.catalog.schema import Exclusion, InstanceFacts, Offer

__all__ = ["Catalog", "CatalogError", "Exclusion", "InstanceFacts", "Offer", "StaleCatalogWarning",
           "UnknownAccelerator", "load_catalog"]
