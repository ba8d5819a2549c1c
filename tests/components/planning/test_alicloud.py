"""Alibaba GPU node pools: whole-GPU families only, sales-ticket families only when allowed."""

from __future__ import annotations

import pytest
from newinfra.components.planning.alicloud import (
    GPU_FAMILIES,
    SALES_TICKET_FAMILIES,
    check_cluster_cidrs,
    check_gpu_instance_type,
    instance_family,
)

from newinfra.errors import ComponentInputError


@pytest.mark.parametrize(("instance_type", "family"), [
    ("ecs.gn7i-c8g1.2xlarge", "gn7i"),
    ("ecs.ebmgn7e.32xlarge", "ebmgn7e"),
    ("ecs.gn8v-4x.8xlarge", "gn8v"),
    ("ecs.g7.2xlarge", "g7"),
])
def test_family(instance_type, family):
    assert instance_family(instance_type) == family


def test_gpu_types_pass():
    assert check_gpu_instance_type("ecs.gn7i-c32g1.8xlarge", "A10") == "gn7i"
    assert check_gpu_instance_type("ecs.ebmgn7e.32xlarge", "A100-80GB") == "ebmgn7e"


@pytest.mark.parametrize(("instance_type", "accelerator", "message"), [
    ("ecs.g7.2xlarge", "A10", r"instance_type: 'ecs.g7.2xlarge' is family 'g7', not a GPU family"),
    ("ecs.vgn7i-vws-m4.xlarge", "A10", r"family 'vgn7i', not a GPU family"),  # a vGPU slice
    ("ecs.gn4-c4g1.xlarge", "M40", r"family 'gn4' is not a known whole-GPU family"),
    ("p5.48xlarge", "H100", r"is not an ECS instance type"),
    ("ecs.gn7i-c8g1.2xlarge", "H100", r"accelerator: 'H100' is not offered on Alibaba Cloud"),
    ("ecs.gn7i-c8g1.2xlarge", "T4", r"accelerator: 'T4' does not match instance_type 'ecs.gn7i-c8g1.2xlarge'"),
])
def test_refused(instance_type, accelerator, message):
    with pytest.raises(ComponentInputError, match=message):
        check_gpu_instance_type(instance_type, accelerator)


@pytest.mark.parametrize("family", sorted(SALES_TICKET_FAMILIES))
def test_sales_ticket_families_need_the_flag(family):
    instance_type = f"ecs.{family}.8xlarge"
    with pytest.raises(ComponentInputError, match=rf"family '{family}' is sold only after a sales ticket; "
                                                        r"set allow_sales_ticket_types true"):
        check_gpu_instance_type(instance_type, GPU_FAMILIES[family])
    assert check_gpu_instance_type(instance_type, GPU_FAMILIES[family], allow_sales_ticket_types=True) == family



def test_cluster_cidrs():
    assert check_cluster_cidrs("172.20.0.0/16", "172.21.0.0/20", "10.32.0.0/16") == ("172.20.0.0/16", "172.21.0.0/20")
    with pytest.raises(ComponentInputError, match="pod_cidr: '172.20.0.0/16' overlaps service_cidr '172.20.0.0/20'"):
        check_cluster_cidrs("172.20.0.0/16", "172.20.0.0/20", None)
    with pytest.raises(ComponentInputError, match="service_cidr: '8.8.8.0/24' must be a private IPv4 range"):
        check_cluster_cidrs("172.20.0.0/16", "8.8.8.0/24", None)
