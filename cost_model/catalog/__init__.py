"""Price catalog: offers per cloud, region, zone and instance type, with aliases, egress and FX rates."""

from newinfra.cost_model.catalog.loader import (
    Catalog,
    CatalogError,
    StaleCatalogWarning,
    UnknownAccelerator,
    load_catalog,
)
from newinfra.cost_model.catalog.schema import Exclusion, InstanceFacts, Offer

__all__ = ["Catalog", "CatalogError", "Exclusion", "InstanceFacts", "Offer", "StaleCatalogWarning",
           "UnknownAccelerator", "load_catalog"]
