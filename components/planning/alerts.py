"""Pure planning of the DCGM alert pack: Prometheus alerting (and recording) rules over the metrics NVIDIA's
dcgm-exporter publishes, from thresholds a stack may tune. No resources here; the rules are unit-tested by
``promtool test rules`` (tests/components/k8s/test_alert_rules_promtool.py), one fault and one recovery per alert.

Metric names are dcgm-exporter's (NVIDIA/dcgm-exporter etc/default-counters.csv; DCGM field ids in DCGM's
dcgm_fields.h): DCGM_FI_DEV_XID_ERRORS (gauge: the *last* XID, it stays set after recovery, dcgm-exporter#500,
so every XID rule alerts on a change within a window and clears when the window has passed),
DCGM_FI_DEV_ECC_DBE_VOL_TOTAL, DCGM_FI_DEV_ROW_REMAP_FAILURE, DCGM_FI_DEV_ROW_REMAP_PENDING,
DCGM_FI_DEV_CLOCKS_EVENT_REASONS (DCGM >= 3.3; DCGM_FI_DEV_CLOCK_THROTTLE_REASONS before), the
DCGM_FI_DEV_NVLINK_*_ERROR_COUNT_TOTAL counters, DCGM_FI_DEV_GPU_UTIL and DCGM_FI_DEV_GPU_TEMP. The exporter's
default counter list leaves the ECC, NVLink-error and clock-event fields commented out: ``DCGM_FIELDS`` is what
its counter list must contain for every rule here to see data.

Two rules also read kube-state-metrics: ``kube_node_info`` (is the node still in the cluster) and
``kube_node_labels`` with the label ``node.kubernetes.io/instance-type``, which kube-state-metrics exports only
when allowed (``--metric-labels-allowlist=nodes=[node.kubernetes.io/instance-type]``). Both assume the
exporter's ``Hostname`` label is the Kubernetes node name (the GPU operator's exporter runs with NODE_NAME).
"""

import re
from dataclasses import dataclass
from typing import Any

from newinfra.components.planning.pools import accelerator_vendor

from newinfra.errors import ComponentInputError
from newinfra.facts import ACCELERATOR_ARCHITECTURE, ARCHITECTURES, FAMILIES

# XIDs that mean the GPU or its host needs attention (Azure HPC health checks' list; the Ansible GPU
# validation's gpu_health.CRITICAL_XIDS is the same list). 79 ("fell off the bus") has its own alert.
CRITICAL_XIDS = (48, 56, 57, 58, 62, 63, 64, 65, 68, 69, 73, 74, 79, 80, 81, 92, 119, 120)
XID_FELL_OFF_BUS = 79
# The series of one GPU: dcgm-exporter adds pod/namespace/container while a pod holds the GPU, so rules
# aggregate to these to survive that label churn.
GPU_LABELS = "Hostname, gpu, UUID"
NVLINK_ERROR_COUNTERS = ("CRC_FLIT", "CRC_DATA", "REPLAY", "RECOVERY")
# NVML clocks-event reason bits (nvmlClocksEventReasons): software/hardware thermal slowdown; hardware
# slowdown and the external power brake. The software power cap (0x4) is left out: a busy GPU sits at its
# power limit by design.
THERMAL_BITS = (0x20, 0x40)
POWER_BITS = (0x08, 0x80)
CLOCK_EVENTS = "(DCGM_FI_DEV_CLOCKS_EVENT_REASONS or DCGM_FI_DEV_CLOCK_THROTTLE_REASONS)"
EXPECTED_GPUS = "newinfra:node_gpus_expected"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
INSTANCE_TYPE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}$")

DCGM_FIELDS = tuple(sorted({
    "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_ROW_REMAP_FAILURE",
    "DCGM_FI_DEV_ROW_REMAP_PENDING", "DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_DEV_GPU_TEMP", *(f"DCGM_FI_DEV_NVLINK_{c}_ERROR_COUNT_TOTAL" for c in NVLINK_ERROR_COUNTERS)}))

# The exporter's counter list the GPU operator is given (a ConfigMap; NVIDIA's GPU telemetry docs: Helm values
# dcgmExporter.config.name and DCGM_EXPORTER_COLLECTORS=/etc/dcgm-exporter/dcgm-metrics.csv). It replaces the
# default list, so it keeps the everyday fields (clocks, power, memory, utilisation) beside the ones the rules
# read. Rows: field, Prometheus type, help text (the exporter's CSV format).
DCGM_METRICS_CONFIGMAP = "newinfra-dcgm-metrics"
DCGM_METRICS_FILE = "dcgm-metrics.csv"
DCGM_METRICS_PATH = f"/etc/dcgm-exporter/{DCGM_METRICS_FILE}"
EXPORTER_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (MHz)."),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (MHz)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (C)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (W)."),
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Energy used since boot (mJ)."),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilisation (%)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory copy utilisation (%)."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (MiB)."),
    ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "PCIe replays."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "The last XID error the GPU reported."),
    ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Uncorrectable (double-bit) ECC errors since the last reset."),
    ("DCGM_FI_DEV_ROW_REMAP_PENDING", "gauge", "1 when a row remap waits for a GPU reset."),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "1 when a row remap failed."),
    ("DCGM_FI_DEV_CLOCKS_EVENT_REASONS", "gauge", "Bitmask of the reasons clocks are held down."),
    *((f"DCGM_FI_DEV_NVLINK_{c}_ERROR_COUNT_TOTAL", "counter", f"NVLink {c.replace('_', ' ').lower()} errors.")
      for c in NVLINK_ERROR_COUNTERS),
)


def exporter_counters_csv() -> str:
    """The counter list the exporter reads: every field the rules need, and the everyday ones."""
    return "".join(f"{field}, {kind}, {help_text}\n" for field, kind, help_text in EXPORTER_COUNTERS)


@dataclass(frozen=True)
class Threshold:
    default: int
    low: int
    high: int
    meaning: str


# Every tunable number of the pack: (default, valid range). AlertThresholds (GpuPlatform) lists the same keys.
THRESHOLDS: dict[str, Threshold] = {
    "idle_minutes": Threshold(60, 5, 1440, "minutes an allocated GPU shows 0% utilisation before GpuIdle"),
    "temperature_celsius": Threshold(85, 60, 100, "GPU temperature above which GpuHighTemperature fires"),
    "temperature_minutes": Threshold(5, 1, 60, "minutes the temperature stays high before GpuHighTemperature"),
    "error_window_minutes": Threshold(15, 5, 1440, "window an XID, ECC or NVLink error keeps its alert firing"),
    "throttle_minutes": Threshold(10, 1, 60, "minutes thermal or power throttling lasts before it alerts"),
    "nvlink_errors": Threshold(10, 0, 1_000_000, "NVLink error count per window above which GpuNvlinkErrors fires"),
    "expensive_idle_percent": Threshold(10, 1, 100, "utilisation below which an expensive GPU counts as idle"),
    "expensive_idle_minutes": Threshold(30, 5, 1440, "minutes an expensive GPU stays idle before it alerts"),
    "missing_gpu_minutes": Threshold(15, 5, 120, "minutes a node shows fewer GPUs than its type before it "
                                                 "alerts (covers the exporter's start on a new node)"),
}


def _nvidia(accelerator: str) -> bool:
    arch = ACCELERATOR_ARCHITECTURE.get(accelerator)
    return arch is not None and ARCHITECTURES[arch].vendor == "nvidia"


# "Expensive": the GPUs sold on NVSwitch (HGX/DGX-class) boards in the facts, the ones that cost tens of
# dollars per node-hour: A100, H100, H200, H20, B200, B300.
EXPENSIVE_ACCELERATORS = tuple(sorted({f.accelerator for f in FAMILIES.values()
                                       if f.nvswitch and f.accelerator and _nvidia(f.accelerator)}))


def check_thresholds(values: dict[str, Any]) -> dict[str, int]:
    """Every threshold, defaults filled in; a bad one raises naming its key, its value and the valid range."""
    for key in sorted(set(values) - set(THRESHOLDS)):
        raise ComponentInputError(key, f"is not a threshold; valid: {', '.join(sorted(THRESHOLDS))}")
    checked = {}
    for key, spec in THRESHOLDS.items():
        value = values.get(key, spec.default)
        if isinstance(value, bool) or not isinstance(value, int) or not spec.low <= value <= spec.high:
            raise ComponentInputError(key, f"{value!r} must be an integer in [{spec.low}, {spec.high}]")
        checked[key] = value
    return checked


def check_expensive(accelerators: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    valid = sorted(a for a in ACCELERATOR_ARCHITECTURE if _nvidia(a))
    if isinstance(accelerators, str) or not accelerators:
        raise ComponentInputError("expensive_accelerators", f"{accelerators!r} must be a non-empty list of "
                                                            f"NVIDIA accelerators; valid: {valid}")
    for name in accelerators:
        if name not in valid:
            raise ComponentInputError("expensive_accelerators", f"{name!r} is not an NVIDIA accelerator; valid: {valid}")
    return tuple(sorted(set(accelerators)))


def check_node_gpus(node_gpus: dict[str, int]) -> dict[str, int]:
    for instance_type, count in sorted(node_gpus.items()):
        if not isinstance(instance_type, str) or not INSTANCE_TYPE.match(instance_type):
            raise ComponentInputError("node_gpus", f"{instance_type!r} is not an instance type name")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 64:
            raise ComponentInputError(f"node_gpus[{instance_type!r}]", f"{count!r} must be an integer in [1, 64]")
    return dict(sorted(node_gpus.items()))


def node_gpus_from_pools(pools: list[Any]) -> dict[str, int]:
    """Instance type -> GPUs per node over the NVIDIA pools that name their instance type."""
    counts: dict[str, int] = {}
    for pool in pools:
        instance_type = pool.get("instance_type")
        if instance_type is None or accelerator_vendor(pool["accelerator"]) != "nvidia":
            continue
        count = pool["accelerators_per_node"]
        if counts.setdefault(instance_type, count) != count:
            raise ComponentInputError(f"node_pools[{pool['name']!r}].accelerators_per_node",
                                      f"{count!r} differs from another {instance_type} pool's {counts[instance_type]}")
    return check_node_gpus(counts)


def model_pattern(accelerators: tuple[str, ...]) -> str:
    """A regex for dcgm-exporter's ``modelName`` (NVML's name: "NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-80GB",
    older boards "Tesla V100-SXM2-16GB"): the canonical name's first word, then the end or a separator (so H20
    does not match H200)."""
    stems = sorted({a.split("-")[0] for a in accelerators})
    return f"(NVIDIA|Tesla) ({'|'.join(stems)})([ -].*)?"


def _bits(bits: tuple[int, ...]) -> str:
    """Any of ``bits`` set in the clock-events bitmask (PromQL has no bitwise operators on values)."""
    series = f"max by ({GPU_LABELS}) {CLOCK_EVENTS}"
    return " + ".join(f"floor({series} / {bit}) % 2" for bit in bits) + " > 0"


def _xid(values: str, window: str) -> str:
    """An XID among ``values`` that appeared within the window."""
    return f"max by ({GPU_LABELS}) (({values}) and changes(DCGM_FI_DEV_XID_ERRORS[{window}]) > 0)"


def alert_rules(*, node_gpus: dict[str, int] | None = None,
                expensive_accelerators: list[str] | tuple[str, ...] | None = None,
                **thresholds: Any) -> list[dict[str, Any]]:
    """The pack: recording rules first (Prometheus evaluates a group in order), then alerts sorted by name.
    ``node_gpus``: instance type -> GPUs per node, from the planned pools (the node-level alert needs it)."""
    t = check_thresholds(thresholds)
    expensive = check_expensive(EXPENSIVE_ACCELERATORS if expensive_accelerators is None else expensive_accelerators)
    node_gpus = check_node_gpus(dict(node_gpus or {}))
    window = f"{t['error_window_minutes']}m"
    critical = " or ".join(f"DCGM_FI_DEV_XID_ERRORS == {x}" for x in CRITICAL_XIDS if x != XID_FELL_OFF_BUS)
    gpu = "GPU {{ $labels.gpu }} on {{ $labels.Hostname }}"
    nvlink = " or ".join(
        f"sum by ({GPU_LABELS}) (increase(DCGM_FI_DEV_NVLINK_{c}_ERROR_COUNT_TOTAL[{window}])) > {t['nvlink_errors']}"
        for c in NVLINK_ERROR_COUNTERS)
    # A GPU that reported within the window and does not now, on a node that is still in the cluster (a node
    # scaled away takes its GPUs with it and is no fault).
    vanished = (f"(max by ({GPU_LABELS}) (present_over_time(DCGM_FI_DEV_GPU_TEMP[{window}])) "
                f"unless max by ({GPU_LABELS}) (DCGM_FI_DEV_GPU_TEMP)) "
                f'and on (Hostname) label_replace(kube_node_info, "Hostname", "$1", "node", "(.+)")')
    rules = [_record(instance_type, count) for instance_type, count in node_gpus.items()]
    alerts = [
        _rule("GpuCriticalXid", _xid(critical, window), "0m", "critical",
              f"{gpu} reported critical XID {{{{ $value }}}}",
              f"Drain the node and run the GPU validation playbook; XIDs 48/63/64/92 usually mean the GPU must be "
              f"reset or replaced. Clears {window} after the last new XID."),
        _rule("GpuXidError", _xid(f"DCGM_FI_DEV_XID_ERRORS > 0 unless ({critical} or "
                                  f"DCGM_FI_DEV_XID_ERRORS == {XID_FELL_OFF_BUS})", window),
              "0m", "warning", f"{gpu} reported XID {{{{ $value }}}}",
              f"Look the XID up in NVIDIA's XID catalogue; application XIDs (13, 31, 43) are usually the job's. "
              f"Clears {window} after the last new XID."),
        _rule("GpuFellOffBus", f"{_xid(f'DCGM_FI_DEV_XID_ERRORS == {XID_FELL_OFF_BUS}', window)} or ({vanished})",
              "0m", "critical", f"{gpu} fell off the bus (XID 79 or its metrics vanished)",
              "Drain the node; the GPU needs a node reboot or a replacement."),
        _rule("GpuUncorrectableEcc", f"max by ({GPU_LABELS}) (increase(DCGM_FI_DEV_ECC_DBE_VOL_TOTAL[{window}])) > 0",
              "0m", "critical", f"{gpu} has new uncorrectable (double-bit) ECC errors",
              "Drain the node; the GPU needs a reset (row remapping) or replacement."),
        _rule("GpuRowRemapPending", f"max by ({GPU_LABELS}) (DCGM_FI_DEV_ROW_REMAP_PENDING) > 0", "0m", "warning",
              f"{gpu} has a row remap pending",
              "Reset the GPU once it is drained: the spare row is used only after a reset."),
        _rule("GpuRowRemapFailed", f"max by ({GPU_LABELS}) (DCGM_FI_DEV_ROW_REMAP_FAILURE) > 0", "0m", "critical",
              f"{gpu} failed to remap a memory row",
              "The GPU has no spare rows left for this bank: drain the node and have the GPU replaced."),
        _rule("GpuThermalThrottling", _bits(THERMAL_BITS), f"{t['throttle_minutes']}m", "warning",
              f"{gpu} is slowing its clocks for heat",
              "Check cooling, airflow and the temperature; throttled GPUs slow every rank of a training job."),
        _rule("GpuPowerThrottling", _bits(POWER_BITS), f"{t['throttle_minutes']}m", "warning",
              f"{gpu} is slowed by hardware slowdown or the power brake",
              "Check the node's power supplies and the power brake signal; a steady software power cap is normal."),
        _rule("GpuNvlinkErrors", nvlink, "0m", "warning",
              f"{gpu} counted more than {t['nvlink_errors']} NVLink errors of one kind within {window}",
              "Run the NVLink checks of the GPU validation playbook; recurring errors point at a link to replace."),
        _rule("GpuIdle", 'max by (Hostname, gpu, namespace, pod) (DCGM_FI_DEV_GPU_UTIL{pod!=""}) == 0',
              f"{t['idle_minutes']}m", "warning",
              f"GPU {{{{ $labels.gpu }}}} held by {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} has been idle "
              f"for {t['idle_minutes']} minutes",
              "An allocated GPU that does nothing still costs money: stop the pod or give the GPU back."),
        _rule("GpuIdleExpensive",
              f'max by (Hostname, gpu, modelName, namespace, pod) (DCGM_FI_DEV_GPU_UTIL{{pod!="", '
              f'modelName=~"{model_pattern(expensive)}"}}) < {t["expensive_idle_percent"]}',
              f"{t['expensive_idle_minutes']}m", "warning",
              f"{{{{ $labels.modelName }}}} {{{{ $labels.gpu }}}} held by {{{{ $labels.namespace }}}}/"
              f"{{{{ $labels.pod }}}} has been below {t['expensive_idle_percent']}% for "
              f"{t['expensive_idle_minutes']} minutes",
              f"An expensive GPU ({', '.join(expensive)}) that idles wastes the most money: free it for queued work."),
        _rule("GpuHighTemperature", f"max by ({GPU_LABELS}) (DCGM_FI_DEV_GPU_TEMP) > {t['temperature_celsius']}",
              f"{t['temperature_minutes']}m", "warning",
              f"{gpu} is above {t['temperature_celsius']} C",
              "Check cooling and clock throttle reasons; sustained heat throttles training."),
    ]
    if node_gpus:
        # Fewer GPUs reporting than the instance type has (none at all counts as 0); clears when they are back.
        seen = f"count by (Hostname) (max by ({GPU_LABELS}) (DCGM_FI_DEV_GPU_TEMP))"
        alerts.append(_rule(
            "GpuNodeMissingGpus",
            f"{EXPECTED_GPUS} > on (Hostname) group_left () ({seen} or on (Hostname) 0 * max by (Hostname) ({EXPECTED_GPUS}))",
            f"{t['missing_gpu_minutes']}m", "critical",
            "Node {{ $labels.Hostname }} ({{ $labels.instance_type }}) reports fewer GPUs than the "
            "{{ $value }} its instance type has",
            "A GPU fell off the bus or its driver failed: drain the node and run the GPU validation playbook."))
    return rules + sorted(alerts, key=lambda r: r["alert"])


def alert_names(rules: list[dict[str, Any]]) -> list[str]:
    return [r["alert"] for r in rules if "alert" in r]


def _record(instance_type: str, gpus: int) -> dict[str, Any]:
    """The GPUs each node of one instance type should report, keyed by node name as ``Hostname``."""
    label = "label_" + re.sub(r"[^a-zA-Z0-9_]", "_", INSTANCE_TYPE_LABEL)
    nodes = (f'label_replace(label_replace(kube_node_labels{{{label}="{instance_type}"}}, '
             f'"Hostname", "$1", "node", "(.+)"), "instance_type", "$1", "{label}", "(.+)")')
    return {"record": EXPECTED_GPUS, "expr": f"{gpus} * max by (Hostname, instance_type) ({nodes})"}


def _rule(alert: str, expr: str, for_: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {"alert": alert, "expr": expr, "for": for_, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description}}
