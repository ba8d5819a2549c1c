"""Quota families and units per cloud, and the family facts table other parts import."""

from __future__ import annotations

import warnings

import pytest
from newinfra.cost_model.catalog import StaleCatalogWarning, load_catalog
from newinfra.cost_model.catalog.quota import AWS_QUOTA_CLASSES, quota_code, quota_family, quota_units

from newinfra.facts import ARCHITECTURES, FAMILIES, SALES_TICKET_FAMILIES, family_facts

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StaleCatalogWarning)
    CAT = load_catalog()


def first(cloud: str, itype: str, accelerator: str | None = None):
    return next(o for o in CAT.offers if o.cloud == cloud and o.instance_type == itype
                and (accelerator is None or o.accelerator == accelerator))


@pytest.mark.parametrize(("cloud", "itype", "family", "units", "spot_code"), [
    ("aws", "p5.48xlarge", "P", 192.0, "L-7212CCBC"),
    ("aws", "g5.xlarge", "G", 4.0, "L-3819A6DF"),
    ("aws", "g4ad.xlarge", "G", 4.0, "L-3819A6DF"),
    ("aws", "inf2.xlarge", "Inf", 4.0, "L-B5D1601B"),
    ("aws", "trn1.32xlarge", "Trn", 128.0, "L-6B0D517C"),
    ("aws", "dl1.24xlarge", "DL", 96.0, "L-85EED4F7"),
    ("aws", "f1.2xlarge", "F", 8.0, "L-88CF9481"),
    ("gcp", "a3-highgpu-8g", "H100", 8.0, "PREEMPTIBLE_NVIDIA_H100_GPUS"),
    ("gcp", "a3-megagpu-8g", "H100-MEGA", 8.0, "PREEMPTIBLE_NVIDIA_H100_MEGA_GPUS"),
    ("gcp", "g2-standard-96", "L4", 8.0, "PREEMPTIBLE_NVIDIA_L4_GPUS"),
    ("gcp", "v5p-16", "tpu-v5p", 8.0, "tpu-v5p chips (preemptible)"),
    ("alicloud", "ecs.gn7i-c8g1.2xlarge", "gn7i", 8.0, "ecs gn7i vCPUs"),
])
def test_quota_family_units_and_code(cloud, itype, family, units, spot_code):
    o = first(cloud, itype)
    assert quota_family(o, "on-demand") == quota_family(o, "spot") == family
    assert quota_units(o) == units
    assert quota_code(o, "spot") == spot_code


def test_aws_on_demand_codes():
    assert quota_code(first("aws", "p4d.24xlarge"), "on-demand") == "L-417A185B"
    assert quota_code(first("aws", "g6.xlarge"), "on-demand") == "L-DB2E81BA"
    assert AWS_QUOTA_CLASSES == ("DL", "F", "G", "Inf", "P", "Trn")


def test_bad_market():
    with pytest.raises(ValueError, match=r"market 'reserved' is not one of \['on-demand', 'spot'\]"):
        quota_family(first("aws", "p5.48xlarge"), "reserved")


def test_every_offer_has_family_facts_and_a_quota():
    for o in CAT.offers:
        facts = family_facts(o.cloud, o.family)
        assert facts is not None, f"{o.cloud} {o.family} missing from families.FAMILIES"
        assert facts.accelerator in (None, o.accelerator) or o.family.startswith("n1-")
        assert quota_family(o, "spot")
        assert quota_units(o) > 0


def test_family_facts():
    p5 = FAMILIES[("aws", "p5")]
    assert (p5.architecture, p5.driver.driver_branch, p5.driver.open_kernel_modules) == ("Hopper", "580", "recommended")
    assert p5.efa_interfaces["p5.48xlarge"] == 32 and p5.fabric_manager(8) and p5.eks_ami_type == "AL2023_x86_64_NVIDIA"
    assert FAMILIES[("aws", "g5g")].eks_ami_type == "AL2023_ARM_64_NVIDIA"
    assert FAMILIES[("aws", "trn1")].eks_ami_type == "AL2023_x86_64_NEURON"
    assert FAMILIES[("aws", "p6-b200")].driver.open_kernel_modules == "required"
    assert FAMILIES[("gcp", "n1-standard")].driver is None  # depends on the attached GPU
    assert FAMILIES[("alicloud", "gn6v")].driver.open_kernel_modules == "unsupported"  # Volta
    assert not FAMILIES[("aws", "g6")].fabric_manager(8) and FAMILIES[("aws", "g6")].efa("g6.48xlarge")
    assert SALES_TICKET_FAMILIES == {"ebmgn8v", "gn7s", "gn8is", "gn8v"}
    assert set(ARCHITECTURES) >= {f.architecture for f in FAMILIES.values() if f.architecture}
