"""Pure planning of the Kubernetes GPU layer: priority mapping, flavors and quotas, team quotas,
operator values and alert expressions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newinfra.components.planning.alerts import alert_rules
from newinfra.components.planning.k8s import (
    CRITICAL_TRAINING,
    DEFAULT,
    PREEMPTIBLE_BATCH,
    PRIORITY_CLASSES,
    check_teams,
    cluster_queue_spec,
    flavor_name,
    gpu_operator_values,
    plan_flavors,
    priority_class_for,
    team_quota_hard,
    workload_priority_classes,
)
from newinfra.components.planning.pools import plan_node_pool

from newinfra.errors import ComponentInputError
from newinfra.placement import Placement


def pool(workload="train", accelerator="H100", instance_type="p5.48xlarge", per_node=8, nodes=2,
         market="on-demand", kind="training", cloud="aws", zones=("use1-az4",), tpu_topology=None):
    placement = Placement(workload=workload, cloud=cloud, region="r", zones=zones, instance_type=instance_type,
                          accelerator=accelerator, accelerators_per_node=per_node, nodes=nodes, min_nodes=0,
                          max_nodes=max(nodes, 1) * 2, market=market, tpu_topology=tpu_topology,
                          node_hourly_usd=1.0)
    return plan_node_pool(placement, kind=kind, profile="production")


@pytest.mark.parametrize(("kind", "priority", "expected"), [
    ("training", 1000, CRITICAL_TRAINING.name), ("training", 700, CRITICAL_TRAINING.name),
    ("training", 699, DEFAULT.name), ("inference", 1000, DEFAULT.name), ("inference", 100, DEFAULT.name),
    ("inference", 99, PREEMPTIBLE_BATCH.name), ("batch", 1000, PREEMPTIBLE_BATCH.name),
    ("training", 0, PREEMPTIBLE_BATCH.name),
])
def test_priority_mapping(kind, priority, expected):
    assert priority_class_for(kind, priority) == expected


@given(st.sampled_from(["training", "inference", "batch"]), st.integers(0, 1000), st.integers(0, 1000))
def test_higher_priority_never_maps_to_a_lower_class(kind, a, b):
    value = {p.name: p.value for p in PRIORITY_CLASSES}
    low, high = sorted((a, b))
    assert value[priority_class_for(kind, low)] <= value[priority_class_for(kind, high)]


def test_only_batch_never_preempts():
    assert {p.name: p.preemption_policy for p in PRIORITY_CLASSES}[PREEMPTIBLE_BATCH.name] == "Never"
    assert CRITICAL_TRAINING.value > DEFAULT.value > PREEMPTIBLE_BATCH.value


@pytest.mark.parametrize(("kind", "priority", "message"), [
    ("serving", 5, "kind: 'serving' is not valid"), ("batch", 1001, "priority: 1001"), ("batch", "high", "priority")])
def test_bad_workloads_fail_clearly(kind, priority, message):
    with pytest.raises(ComponentInputError, match=message):
        priority_class_for(kind, priority)


def test_workload_mapping_is_sorted():
    mapping = workload_priority_classes([{"name": "zeta", "kind": "batch", "priority": 1},
                                         {"name": "alpha", "kind": "training", "priority": 900}])
    assert list(mapping.items()) == [("alpha", CRITICAL_TRAINING.name), ("zeta", PREEMPTIBLE_BATCH.name)]


def test_flavors_per_accelerator_and_market_with_summed_quota_and_tolerations():
    pools = [pool(), pool(workload="train2", nodes=1), pool(workload="cheap", market="spot", nodes=3),
             pool(workload="tpu", accelerator="tpu-v5litepod", instance_type="v5litepod-8", per_node=8, nodes=1,
                  cloud="gcp", zones=("us-central1-a",), tpu_topology="2x4")]
    flavors = {f.name: f for f in plan_flavors(pools)}
    assert sorted(flavors) == ["h100-on-demand", "h100-spot", "tpu-v5litepod-on-demand"]
    assert flavors["h100-on-demand"].nominal_quota == (2 + 1) * 8
    assert flavors["h100-spot"].nominal_quota == 3 * 8
    assert flavors["h100-spot"].node_labels == {"newinfra.io/accelerator": "H100", "newinfra.io/market": "spot"}
    assert flavors["h100-on-demand"].tolerations == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}]
    assert flavors["tpu-v5litepod-on-demand"].resource == "google.com/tpu"
    spec = cluster_queue_spec(list(flavors.values()))
    groups = {g["coveredResources"][0]: g for g in spec["resourceGroups"]}
    assert sorted(groups) == ["google.com/tpu", "nvidia.com/gpu"]
    assert [f["name"] for f in groups["nvidia.com/gpu"]["flavors"]] == ["h100-on-demand", "h100-spot"]
    assert spec["namespaceSelector"]["matchExpressions"][0]["key"] == "newinfra.io/team"


def test_flavor_needs_the_pool_labels():
    bad = pool()
    bad["labels"] = {}
    with pytest.raises(ComponentInputError, match="newinfra.io/accelerator"):
        plan_flavors([bad])


@given(st.text(alphabet="ABCxyz019-_. ", min_size=1, max_size=80), st.sampled_from(["on-demand", "spot"]))
def test_flavor_names_are_dns_labels_or_a_clear_error(accelerator, market):
    try:
        name = flavor_name(accelerator, market)
    except ComponentInputError as error:
        assert "flavor name" in str(error)
    else:
        assert len(name) <= 63 and name == name.lower() and not name.startswith("-")


def test_team_quotas():
    assert team_quota_hard({"name": "vision", "gpus": 16}) == {"requests.nvidia.com/gpu": "16"}
    assert team_quota_hard({"name": "tpu-team", "gpus": 0, "tpus": 32}) == {
        "requests.nvidia.com/gpu": "0", "requests.google.com/tpu": "32"}
    with pytest.raises(ComponentInputError, match="teams\\[\\].name: 'Vision'"):
        team_quota_hard({"name": "Vision", "gpus": 1})
    with pytest.raises(ComponentInputError, match="gpus: -1"):
        team_quota_hard({"name": "vision", "gpus": -1})
    with pytest.raises(ComponentInputError, match="repeated: \\['a'\\]"):
        check_teams([{"name": "a", "gpus": 1}, {"name": "a", "gpus": 2}])


@pytest.mark.parametrize(("cloud", "toolkit"), [("aws", False), ("gcp", True), ("alicloud", True)])
def test_operator_leaves_drivers_and_shipped_toolkits_to_the_node_image_and_keeps_dcgm(cloud, toolkit):
    values = gpu_operator_values(cloud)
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"]["enabled"] is toolkit and values["dcgmExporter"]["enabled"] is True


def test_operator_installs_drivers_when_told_the_image_has_none_and_knows_gke_paths():
    bare_image = gpu_operator_values("aws", drivers_preinstalled=False)
    assert bare_image["driver"] == {"enabled": True} and bare_image["toolkit"] == {"enabled": True}
    gke = gpu_operator_values("gcp")
    assert gke["hostPaths"]["driverInstallDir"] == "/home/kubernetes/bin/nvidia"
    assert gke["toolkit"] == {"enabled": True, "installDir": "/home/kubernetes/bin/nvidia"}
    with pytest.raises(ComponentInputError, match="cloud: 'azure'"):
        gpu_operator_values("azure")


def test_alert_expressions_and_thresholds():
    rules = {r["alert"]: r for r in alert_rules(idle_minutes=30, temperature_celsius=80)}
    assert sorted(rules) == ["GpuCriticalXid", "GpuFellOffBus", "GpuHighTemperature", "GpuIdle", "GpuIdleExpensive",
                             "GpuNvlinkErrors", "GpuPowerThrottling", "GpuRowRemapFailed", "GpuRowRemapPending",
                             "GpuThermalThrottling", "GpuUncorrectableEcc", "GpuXidError"]
    assert "increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[15m])" in rules["GpuUncorrectableEcc"]["expr"]
    assert "DCGM_FI_DEV_GPU_UTIL" in rules["GpuIdle"]["expr"] and rules["GpuIdle"]["expr"].endswith("== 0")
    assert rules["GpuIdle"]["for"] == "30m"
    assert rules["GpuHighTemperature"]["expr"].endswith("> 80")
    assert "DCGM_FI_DEV_XID_ERRORS == 48" in rules["GpuCriticalXid"]["expr"]
    assert "changes(DCGM_FI_DEV_XID_ERRORS[15m]) > 0" in rules["GpuCriticalXid"]["expr"]
    assert rules["GpuCriticalXid"]["labels"]["severity"] == "critical"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"idle_minutes": 1}, "idle_minutes: 1"), ({"temperature_celsius": 120}, "temperature_celsius: 120"),
    ({"temperature_minutes": 0}, "temperature_minutes: 0"),
    ({"nvlink_errors": -1}, r"nvlink_errors: -1 must be an integer in \[0, 1000000\]"),
    ({"expensive_idle_percent": 0}, r"expensive_idle_percent: 0 must be an integer in \[1, 100\]"),
    ({"error_window_minutes": True}, "error_window_minutes: True"),
    ({"throttle_minutes": 2.5}, "throttle_minutes: 2.5"), ({"missing_gpu_minutes": 121}, "missing_gpu_minutes: 121"),
    ({"expensive_idle_minutes": "30"}, "expensive_idle_minutes: '30'"),
    ({"idle_minute": 5}, "idle_minute: is not a threshold; valid: error_window_minutes, "),
    ({"expensive_accelerators": ["L40S", "H1000"]}, "expensive_accelerators: 'H1000' is not an NVIDIA accelerator"),
    ({"expensive_accelerators": ["tpu-v5p"]}, "expensive_accelerators: 'tpu-v5p' is not an NVIDIA"),
    ({"expensive_accelerators": []}, r"expensive_accelerators: \[\] must be a non-empty list"),
    ({"node_gpus": {"p5.48xlarge": 0}}, r"node_gpus\['p5.48xlarge'\]: 0 must be an integer in \[1, 64\]"),
    ({"node_gpus": {'p5"}': 8}}, "node_gpus: 'p5\"}' is not an instance type name")])
def test_bad_thresholds_fail_clearly(kwargs, message):
    with pytest.raises(ComponentInputError, match=message):
        alert_rules(**kwargs)


def test_platform_inputs_from_the_config_and_placements():
    from newinfra.components.planning.k8s import team_quotas, workload_priorities
    from newinfra.cost_model.request import Workload

    workloads = [Workload(name="train", kind="training", accelerator="H100", count=16, priority=800, team="vision"),
                 Workload(name="tpu", kind="training", accelerator="tpu-v5litepod", count=8, team="vision"),
                 Workload(name="serve", kind="inference", accelerator="L4", count=2),
                 Workload(name="fleet", kind="training", accelerator="H100", count=8, runs_on="vm", team="nlp")]

    def placed(workload, accelerator, per_node, max_nodes, runs_on="kubernetes"):
        return Placement(workload=workload, cloud="gcp", region="r", zones=("z",), instance_type="t",
                         accelerator=accelerator, accelerators_per_node=per_node, nodes=1, min_nodes=0,
                         max_nodes=max_nodes, runs_on=runs_on, node_hourly_usd=1.0)

    placements = [placed("train", "H100", 8, 3), placed("tpu", "tpu-v5litepod", 8, 1), placed("serve", "L4", 1, 4),
                  placed("fleet", "H100", 8, 1, runs_on="vm")]
    assert team_quotas(workloads, placements) == [{"name": "default", "gpus": 4},
                                                  {"name": "vision", "gpus": 24, "tpus": 8}]
    assert [w["name"] for w in workload_priorities(workloads)] == ["fleet", "serve", "tpu", "train"]
    with pytest.raises(ComponentInputError, match="workload 'ghost'"):
        team_quotas(workloads, [placed("ghost", "H100", 8, 1)])
