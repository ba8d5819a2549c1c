"""Every DCGM alert, proven by Prometheus' own rule engine: ``promtool test rules`` feeds a fault series and
then its recovery, and the alert must fire (with its labels and rendered annotations) and then clear.

The rules are the ones the component renders (``alert_rules``), with the default thresholds and with custom
ones; the test timelines are computed from the thresholds, so both renderings are proven by the same cases.
promtool is Debian's ``prometheus`` package, installed by ``make setup`` (ansible/ci-setup.sh); these tests
FAIL without it, because ``make test`` runs ``make setup`` first. Marked slow: the fast suite needs no promtool.
"""

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from newinfra.components.planning.alerts import THRESHOLDS, alert_names, alert_rules, check_thresholds

pytestmark = pytest.mark.slow

NODE_GPUS = {"p5.48xlarge": 8, "g6.12xlarge": 4}
CUSTOM = {"idle_minutes": 10, "temperature_celsius": 80, "temperature_minutes": 2, "error_window_minutes": 30,
          "throttle_minutes": 3, "nvlink_errors": 100, "expensive_idle_percent": 50, "expensive_idle_minutes": 10,
          "missing_gpu_minutes": 5}
GPU = {"Hostname": "node-a", "gpu": "0", "UUID": "GPU-0a"}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: run `make setup` (installs Debian's prometheus package as root)")
    return path


def series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{inner}}}", "values": values}


def steps(*parts: tuple[Any, int]) -> str:
    """promtool's value notation from (value, minutes) runs, one sample a minute: ("_", n) is n missing samples."""
    return " ".join(f"{value}x{minutes - 1}" if value != "_" else " ".join(["_"] * minutes)
                    for value, minutes in parts)


@dataclass
class Case:
    alert: str
    input_series: list[dict[str, str]]
    fires_at: int  # minutes
    labels: list[dict[str, str]]  # one per firing alert, without alertname/severity
    clears_at: int
    value: str = ""  # what {{ $value }} renders to
    quiet: list[tuple[str, int]] = field(default_factory=list)  # (alert, minute) that must not fire there


def xid(t: dict[str, int], code: int, alert: str) -> Case:
    # The XID gauge keeps its last value after recovery (dcgm-exporter#500): the alert must clear anyway.
    w = t["error_window_minutes"]
    return Case(alert, [series("DCGM_FI_DEV_XID_ERRORS", {**GPU, "pod": "train-0"}, steps((0, 10), (code, w + 60)))],
                fires_at=12, labels=[GPU], clears_at=10 + w + 5, value=str(code))


def counter_window(t: dict[str, int], metric: str, alert: str, rise: int) -> Case:
    w = t["error_window_minutes"]
    values = steps((0, 10)) + f" 0+{rise}x9 " + steps((rise * 9, w + 40))
    return Case(alert, [series(metric, GPU, values)], fires_at=15, labels=[GPU], clears_at=20 + w + 5)


def gauge_state(metric: str, alert: str) -> Case:
    return Case(alert, [series(metric, GPU, steps((0, 10), (1, 10), (0, 20)))], fires_at=15, labels=[GPU],
                clears_at=25)


def throttling(t: dict[str, int], metric: str, bitmask: int, alert: str) -> Case:
    m = t["throttle_minutes"]
    other = {**GPU, "gpu": "1", "UUID": "GPU-1b"}  # only the software power cap: a busy GPU, no alert
    return Case(alert, [series(metric, GPU, steps((0, 10), (bitmask, m + 10), (0, 20))),
                        series(metric, other, steps((4, m + 40)))],
                fires_at=10 + m + 5, labels=[GPU], clears_at=10 + m + 10 + 5)


def cases(t: dict[str, int]) -> list[Case]:
    w, idle, hot = t["error_window_minutes"], t["idle_minutes"], t["temperature_minutes"]
    cheap = {**GPU, "gpu": "1", "UUID": "GPU-1b", "modelName": "NVIDIA L4", "namespace": "ml", "pod": "serve-0"}
    h100 = {**GPU, "modelName": "NVIDIA H100 80GB HBM3", "namespace": "ml", "pod": "train-0"}
    gone = {**GPU, "gpu": "1", "UUID": "GPU-1b"}
    nodes = [series("kube_node_info", {"node": "node-a"}, steps((1, 90)))]
    p5 = {"node": "node-a", "label_node_kubernetes_io_instance_type": "p5.48xlarge"}
    g6 = {"node": "node-b", "label_node_kubernetes_io_instance_type": "g6.12xlarge"}
    miss = t["missing_gpu_minutes"]
    eight = [series("DCGM_FI_DEV_GPU_TEMP", {**GPU, "gpu": str(i), "UUID": f"GPU-{i}"},
                    steps((50, 10), ("_", 30), (50, 30)) if i == 7 else steps((50, 70))) for i in range(8)]
    late = [series("DCGM_FI_DEV_GPU_TEMP", {"Hostname": "node-b", "gpu": str(i), "UUID": f"GPU-b{i}"},
                   steps(("_", 20 + miss), (50, 30))) for i in range(4)]
    return [
        xid(t, 48, "GpuCriticalXid"),
        xid(t, 13, "GpuXidError"),
        Case("GpuXidError", xid(t, 48, "").input_series, 0, [], 0, quiet=[("GpuXidError", 12)]),
        xid(t, 79, "GpuFellOffBus"),
        Case("GpuCriticalXid", xid(t, 79, "").input_series, 0, [], 0, quiet=[("GpuCriticalXid", 12)]),
        # GPU 1's series stops at minute 20 and comes back at 30, its node still in the cluster.
        Case("GpuFellOffBus", nodes + [series("DCGM_FI_DEV_GPU_TEMP", GPU, steps((50, 60))),
                                       series("DCGM_FI_DEV_GPU_TEMP", gone, steps((50, 20), ("_", 10), (50, 30)))],
             fires_at=27, labels=[gone], clears_at=31),
        # A node scaled away takes its GPUs' series with it: no alert.
        Case("GpuFellOffBus", [series("kube_node_info", {"node": "node-a"}, steps((1, 20))),
                               series("DCGM_FI_DEV_GPU_TEMP", GPU, steps((50, 20)))], 0, [], 0,
             quiet=[("GpuFellOffBus", 27)]),
        counter_window(t, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "GpuUncorrectableEcc", 1),
        gauge_state("DCGM_FI_DEV_ROW_REMAP_PENDING", "GpuRowRemapPending"),
        gauge_state("DCGM_FI_DEV_ROW_REMAP_FAILURE", "GpuRowRemapFailed"),
        throttling(t, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", 0x40, "GpuThermalThrottling"),
        throttling(t, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", 0x20 | 0x1, "GpuThermalThrottling"),
        throttling(t, "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", 0x80, "GpuPowerThrottling"),  # the pre-3.3 name
        throttling(t, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", 0x08, "GpuPowerThrottling"),
        counter_window(t, "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "GpuNvlinkErrors",
                       t["nvlink_errors"] // 5 + 1),
        counter_window(t, "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "GpuNvlinkErrors",
                       t["nvlink_errors"] // 5 + 1),
        # Errors under the threshold: no alert.
        Case("GpuNvlinkErrors", [series("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", GPU,
                                        steps((0, 10)) + " 0+1x" + str(t["nvlink_errors"] // 2) + " "
                                        + steps((t["nvlink_errors"] // 2, w + 40)))], 0, [], 0,
             quiet=[("GpuNvlinkErrors", 10 + t["nvlink_errors"] // 2)]),
        Case("GpuIdle", [series("DCGM_FI_DEV_GPU_UTIL", {**GPU, "namespace": "ml", "pod": "train-0"},
                                steps((0, idle + 10), (80, 20)))],
             fires_at=idle + 5, labels=[{"Hostname": "node-a", "gpu": "0", "namespace": "ml", "pod": "train-0"}],
             clears_at=idle + 15),
        Case("GpuIdleExpensive", [series("DCGM_FI_DEV_GPU_UTIL", h100, steps((5, t["expensive_idle_minutes"] + 10),
                                                                             (90, 20))),
                                  series("DCGM_FI_DEV_GPU_UTIL", cheap, steps((5, t["expensive_idle_minutes"] + 30)))],
             fires_at=t["expensive_idle_minutes"] + 5, labels=[{k: v for k, v in h100.items() if k != "UUID"}],
             clears_at=t["expensive_idle_minutes"] + 15),
        Case("GpuHighTemperature", [series("DCGM_FI_DEV_GPU_TEMP", GPU, steps((70, 5), (t["temperature_celsius"] + 5,
                                                                                       hot + 10), (70, 20)))],
             fires_at=5 + hot + 3, labels=[GPU], clears_at=5 + hot + 10 + 3),
        # One GPU of eight vanishes from minute 10 to 40 (stale from 16): fires once missing_gpu_minutes passed.
        Case("GpuNodeMissingGpus", [series("kube_node_labels", p5, steps((1, 90))), *eight],
             fires_at=16 + miss + 2, labels=[{"Hostname": "node-a", "instance_type": "p5.48xlarge"}],
             clears_at=max(16 + miss + 2, 40) + 1, value="8"),
        # A node whose exporter has not reported at all counts as 0 GPUs; it clears once the exporter runs.
        Case("GpuNodeMissingGpus", [series("kube_node_labels", g6, steps((1, 90))), *late],
             fires_at=miss + 2, labels=[{"Hostname": "node-b", "instance_type": "g6.12xlarge"}],
             clears_at=20 + miss + 1, value="4"),
    ]


def render(template: str, labels: dict[str, str], value: str) -> str:
    """The two template forms the rules use: {{ $labels.X }} and {{ $value }}."""
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], template)
    return text.replace("{{ $value }}", value)


def unit_test(case: Case, rule: dict[str, Any]) -> dict[str, Any]:
    def expected(labels: dict[str, str]) -> dict[str, Any]:
        return {"exp_labels": {**labels, **rule["labels"]},
                "exp_annotations": {k: render(v, labels, case.value) for k, v in rule["annotations"].items()}}
    checks = [{"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": []} for alert, minute in case.quiet]
    if case.labels:
        checks += [{"eval_time": f"{case.fires_at}m", "alertname": case.alert,
                    "exp_alerts": [expected(labels) for labels in case.labels]},
                   {"eval_time": f"{case.clears_at}m", "alertname": case.alert, "exp_alerts": []}]
    return {"interval": "1m", "input_series": case.input_series, "alert_rule_test": checks}


def run_promtool(tmp_path: Path, thresholds: dict[str, int]) -> tuple[list[dict[str, Any]], list[Case]]:
    rules = alert_rules(node_gpus=NODE_GPUS, **thresholds)
    by_name = {r["alert"]: r for r in rules if "alert" in r}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "newinfra-gpu", "rules": rules}]}))
    checked = subprocess.run([promtool(), "check", "rules", "rules.yml"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    all_cases = cases(check_thresholds(thresholds))
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": "1m",
             "tests": [unit_test(c, by_name[c.alert]) for c in all_cases]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    result = subprocess.run([promtool(), "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return rules, all_cases


@pytest.mark.parametrize("thresholds", [{}, CUSTOM], ids=["defaults", "custom"])
def test_every_alert_fires_on_its_fault_and_clears_after_recovery(tmp_path, thresholds):
    rules, all_cases = run_promtool(tmp_path, thresholds)
    proven = {c.alert for c in all_cases if c.labels}
    assert proven == set(alert_names(rules)), "an alert without a fault/recovery case"


def test_custom_thresholds_cover_every_key():
    assert sorted(CUSTOM) == sorted(THRESHOLDS)
    assert all(CUSTOM[k] != spec.default for k, spec in THRESHOLDS.items())


def test_promtool_catches_a_wrong_expectation(tmp_path):
    """The harness can fail: an alert expected where the rules raise none makes promtool exit non-zero."""
    case = Case("GpuRowRemapFailed", [series("DCGM_FI_DEV_ROW_REMAP_FAILURE", GPU, steps((0, 30)))],
                fires_at=15, labels=[GPU], clears_at=25)
    rules = alert_rules()
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": rules}]}))
    rule = next(r for r in rules if r.get("alert") == case.alert)
    (tmp_path / "tests.yml").write_text(yaml.safe_dump({"rule_files": ["rules.yml"],
                                                        "tests": [unit_test(case, rule)]}))
    result = subprocess.run([promtool(), "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and "GpuRowRemapFailed" in result.stdout + result.stderr



def test_a_value_above_zero_xid_rule_would_never_clear(tmp_path):
    """Why the XID rules look at changes(): the gauge keeps its last XID after recovery (dcgm-exporter#500), so
    the former ``DCGM_FI_DEV_XID_ERRORS > 0`` rule still fires long after; the shipped rule has cleared."""
    rules = alert_rules()
    naive = [{**r, "expr": "max by (Hostname, gpu, UUID) (DCGM_FI_DEV_XID_ERRORS) > 0"}
             if r.get("alert") == "GpuXidError" else r for r in rules]
    case = xid(check_thresholds({}), 13, "GpuXidError")
    rule = next(r for r in rules if r.get("alert") == "GpuXidError")
    outcomes = []
    for name, pack in (("shipped", rules), ("naive", naive)):
        (tmp_path / f"{name}.yml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": pack}]}))
        (tmp_path / f"{name}-tests.yml").write_text(yaml.safe_dump(
            {"rule_files": [f"{name}.yml"], "tests": [unit_test(case, rule)]}))
        outcomes.append(subprocess.run([promtool(), "test", "rules", f"{name}-tests.yml"], cwd=tmp_path,
                                       capture_output=True, text=True, timeout=60).returncode)
    assert outcomes == [0, 1]
