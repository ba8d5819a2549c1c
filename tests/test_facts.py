"""newinfra/facts.py is the one place for hardware facts: the family rule per cloud, interconnect, TPU
generations and Alibaba families. Every other table derives from it; these tests hold the copies to it."""

from __future__ import annotations

import pytest
from newinfra.components.planning import alicloud as alicloud_planning
from newinfra.components.planning.tpu import plan_tpu_slice
from newinfra.cost_model.catalog import shapes
from newinfra.cost_model.request import tpu_slice_chips

from newinfra import facts


@pytest.mark.parametrize(("cloud", "instance_type", "family"), [
    ("aws", "p5.48xlarge", "p5"), ("aws", "p6-b300.48xlarge", "p6-b300"), ("aws", "g6e.xlarge", "g6e"),
    ("gcp", "a3-highgpu-8g", "a3-highgpu"), ("gcp", "a3-megagpu-8g", "a3-megagpu"), ("gcp", "n1-standard-8", "n1-standard"),
    ("gcp", "g2-standard-96", "g2-standard"), ("gcp", "v5litepod-8", "tpu-v5litepod"), ("gcp", "v3-2048", "tpu-v3"),
    ("alicloud", "ecs.gn7i-c8g1.2xlarge", "gn7i"), ("alicloud", "ecs.ebmgn7e.32xlarge", "ebmgn7e"),
    ("alicloud", "ecs.gn8v-4x.8xlarge", "gn8v"), ("alicloud", "ecs.ebmgn9ge-1.5t.64xlarge", "ebmgn9ge"),
])
def test_one_family_rule_per_cloud(cloud, instance_type, family):
    assert facts.family_of(cloud, instance_type) == family


@pytest.mark.parametrize(("cloud", "instance_type", "message"), [
    ("aws", "p5", r"instance_type: 'p5' is not an EC2 instance type \(<family>.<size>"),
    ("gcp", "a3", r"instance_type: 'a3' is not a GCE machine type"),
    ("alicloud", "gn7i-c8g1.2xlarge", r"instance_type: 'gn7i-c8g1.2xlarge' is not an ECS instance type"),
    ("alicloud", "ecs.gn7i", r"is not an ECS instance type"),
    ("azure", "nd96", r"cloud: 'azure' is not valid; valid: \['alicloud', 'aws', 'gcp'\]"),
])
def test_names_the_rule_does_not_take(cloud, instance_type, message):
    with pytest.raises(facts.FamilyNameError, match=message):
        facts.family_of(cloud, instance_type)


def test_efa_interfaces_one_answer():
    assert facts.efa_interfaces("aws", "p5.48xlarge") == 32
    assert facts.efa_interfaces("aws", "p6-b300.48xlarge") == 1  # EFA on every size, no listed count
    assert facts.efa_interfaces("aws", "g6e.xlarge") == 0
    assert facts.efa_interfaces("gcp", "a3-highgpu-8g") == 0


def test_regression_one_alibaba_family_table():
    """Bug: components/planning/alicloud.py kept its own GPU_FAMILIES / SALES_TICKET_FAMILIES, which disagreed
    with facts.py on ebmgn8is, ebmgn8v, gn7s, gn8is and gn8v. The planner's tables are now derived views."""
    table = {f: v for (c, f), v in facts.FAMILIES.items() if c == "alicloud"}
    assert alicloud_planning.GPU_FAMILIES == {f: v.accelerator for f, v in sorted(table.items()) if v.accelerator}
    assert set(alicloud_planning.GPU_FAMILIES) == set(table)  # every whole-GPU family names its GPU
    assert alicloud_planning.SALES_TICKET_FAMILIES == facts.SALES_TICKET_FAMILIES \
        == frozenset({"ebmgn8v", "gn7s", "gn8is", "gn8v"})
    five = {f: (table[f].accelerator, table[f].sales_ticket) for f in ("ebmgn8is", "ebmgn8v", "gn7s", "gn8is", "gn8v")}
    assert five == {"ebmgn8is": ("L20", False), "ebmgn8v": ("H20", True), "gn7s": ("A30", True),
                    "gn8is": ("L20", True), "gn8v": ("H20", True)}


def test_every_family_accelerator_has_an_architecture():
    for (cloud, family), entry in facts.FAMILIES.items():
        if entry.accelerator:
            assert entry.architecture, f"{cloud}/{family}: {entry.accelerator} has no architecture"


def test_every_tpu_generation_is_a_gcp_family():
    assert {f for (c, f) in facts.FAMILIES if c == "gcp" and f.startswith("tpu-")} == \
        {g.family for g in facts.TPU_GENERATIONS.values()}


@pytest.mark.parametrize("generation", sorted(facts.TPU_GENERATIONS))
def test_request_catalog_and_planner_read_the_same_tpu_generation(generation):
    """The request's chip count, the catalog's slice shape and the planner agree on every standard slice."""
    gen = facts.TPU_GENERATIONS[generation]
    for chips, topology in gen.standard_topologies.items():
        name = f"{generation}-{chips * gen.cores_per_chip_in_name}"
        assert tpu_slice_chips(f"tpu-{name}") == chips
        assert shapes.tpu_slice(f"tpu-{name}") == (gen.family, name, chips, topology)
        plan = plan_tpu_slice(name)
        assert (plan.chips, plan.topology, plan.default_topology) == (chips, topology, topology)


@pytest.mark.parametrize(("cloud", "instance_type", "modes"), [
    ("aws", "p5.48xlarge", ("kubernetes", "vm")), ("aws", "trn1.32xlarge", ("kubernetes", "vm")),
    ("aws", "dl1.24xlarge", ()), ("aws", "f1.2xlarge", ()), ("aws", "g4ad.xlarge", ()),
    ("gcp", "v2-8", ("vm",)), ("gcp", "v3-8", ("kubernetes", "vm")), ("gcp", "n1-standard-8", ("kubernetes", "vm")),
    ("alicloud", "ecs.gn8v-4x.8xlarge", ()), ("alicloud", "ecs.ebmgn7e.32xlarge", ("kubernetes", "vm")),
    ("aws", "m5.large", ()),
])
def test_where_a_type_runs(cloud, instance_type, modes):
    assert facts.runs_on(cloud, instance_type) == modes
