"""The alert pack's pure parts without promtool: what "expensive" means, the model-name pattern, the node GPU
counts taken from the planned pools, and the component wiring of thresholds (promtool proves the rules fire and
clear: test_alert_rules_promtool.py)."""

import re

import pytest
from newinfra.components.planning.alerts import (
    DCGM_FIELDS,
    EXPENSIVE_ACCELERATORS,
    THRESHOLDS,
    alert_names,
    alert_rules,
    model_pattern,
    node_gpus_from_pools,
)

from newinfra.errors import ComponentInputError


def test_expensive_means_the_nvswitch_board_gpus_of_the_facts():
    assert EXPENSIVE_ACCELERATORS == ("A100", "A100-80GB", "B200", "B300", "H100", "H20", "H200")


@pytest.mark.parametrize(("model", "matches"), [
    ("NVIDIA H100 80GB HBM3", True), ("NVIDIA A100-SXM4-80GB", True), ("NVIDIA H200", True), ("NVIDIA H20", True),
    ("NVIDIA B200", True), ("NVIDIA L4", False), ("NVIDIA L40S", False), ("NVIDIA H100X", False),
    ("Tesla V100-SXM2-16GB", False)])
def test_model_pattern_matches_dcgm_model_names_whole(model, matches):
    # Prometheus anchors label regexes at both ends, as fullmatch does.
    assert bool(re.fullmatch(model_pattern(EXPENSIVE_ACCELERATORS), model)) is matches
    assert not re.fullmatch(model_pattern(("H20",)), "NVIDIA H200")
    assert re.fullmatch(model_pattern(("V100-32GB",)), "Tesla V100-SXM2-32GB")


def test_expensive_accelerators_are_configurable():
    rules = {r["alert"]: r for r in alert_rules(expensive_accelerators=["L40S", "L4"])}
    assert 'modelName=~"(NVIDIA|Tesla) (L4|L40S)([ -].*)?"' in rules["GpuIdleExpensive"]["expr"]
    assert "(L4, L40S)" in rules["GpuIdleExpensive"]["annotations"]["description"]


def test_node_gpus_come_from_nvidia_pools_only():
    pools = [{"name": "a", "accelerator": "H100", "accelerators_per_node": 8, "instance_type": "p5.48xlarge"},
             {"name": "b", "accelerator": "H100", "accelerators_per_node": 8, "instance_type": "p5.48xlarge"},
             {"name": "c", "accelerator": "Trainium", "accelerators_per_node": 16, "instance_type": "trn1.32xlarge"},
             {"name": "d", "accelerator": "L4", "accelerators_per_node": 1}]
    assert node_gpus_from_pools(pools) == {"p5.48xlarge": 8}
    with pytest.raises(ComponentInputError, match=r"node_pools\['e'\]\.accelerators_per_node: 4 differs from another "
                                                  r"p5\.48xlarge pool's 8"):
        node_gpus_from_pools([*pools, {**pools[0], "name": "e", "accelerators_per_node": 4}])


def test_node_level_alert_only_with_pool_counts_and_records_come_first():
    assert "GpuNodeMissingGpus" not in alert_names(alert_rules())
    rules = alert_rules(node_gpus={"p5.48xlarge": 8, "g6.12xlarge": 4})
    assert [r.get("record") for r in rules[:2]] == ["newinfra:node_gpus_expected"] * 2
    assert rules[0]["expr"].startswith("4 * ") and 'instance_type="g6.12xlarge"' in rules[0]["expr"]
    assert alert_names(rules) == sorted(alert_names(rules)) and "GpuNodeMissingGpus" in alert_names(rules)


def test_every_rule_reads_only_listed_dcgm_fields():
    text = " ".join(r["expr"] for r in alert_rules(node_gpus={"p5.48xlarge": 8}))
    used = set(re.findall(r"DCGM_FI_\w+", text)) - {"DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"}  # the pre-3.3 alias
    assert used == set(DCGM_FIELDS)


def test_defaults_are_inside_their_ranges():
    assert all(spec.low <= spec.default <= spec.high for spec in THRESHOLDS.values())


def test_the_component_args_list_every_threshold_the_rules_take():
    # The component provider reads TypedDict annotations, so the keys are written out twice (GpuPlatform's
    # alert_thresholds and DcgmAlerts' own args); this keeps both equal to THRESHOLDS.
    from newinfra.components.k8s.alerts import DcgmAlertsArgs
    from newinfra.components.k8s.platform import AlertThresholds

    tunable = set(THRESHOLDS) | {"expensive_accelerators"}
    assert set(AlertThresholds.__annotations__) == tunable
    assert tunable <= set(DcgmAlertsArgs.__annotations__)
