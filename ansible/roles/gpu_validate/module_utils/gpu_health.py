"""GPU node health: parse what NVML / nvidia-smi / the kernel log report, and decide pass or fail.

Pure functions over plain data, so the decisions are tested with recorded outputs of real nodes
(tests/ansible/fixtures/gpu_validate). Runs on the managed node too: Python >= 3.9, stdlib only.
"""

from __future__ import annotations

import re

# Fields asked of `nvidia-smi --query-gpu`, in order. Drivers before 535.54.03 call the last-but-one
# field clocks_throttle_reasons.active; QUERY_GPU_FIELDS_LEGACY is tried when the first query is refused.
QUERY_GPU_FIELDS = (
    "index", "uuid", "name", "pci.bus_id", "driver_version", "ecc.mode.current",
    "ecc.errors.uncorrected.volatile.total", "ecc.errors.uncorrected.aggregate.total", "retired_pages.pending",
    "pcie.link.gen.current", "pcie.link.gen.max", "pcie.link.width.current", "pcie.link.width.max",
    "clocks_event_reasons.active", "memory.total",
)
QUERY_GPU_FIELDS_LEGACY = tuple(
    "clocks_throttle_reasons.active" if f == "clocks_event_reasons.active" else f for f in QUERY_GPU_FIELDS
)
QUERY_REMAPPED_FIELDS = ("gpu_bus_id", "remapped_rows.pending", "remapped_rows.failure", "remapped_rows.uncorrectable")

# XIDs that take a GPU out of service (Azure HPC health checks' list): hardware, memory, NVLink, bus.
CRITICAL_XIDS = frozenset({48, 56, 57, 58, 62, 63, 64, 65, 68, 69, 73, 74, 79, 80, 81, 92, 119, 120})
CLOCK_REASON_GPU_IDLE = 0x1  # NVML clocks event reason "GPU idle": the PCIe link trains down to save power
NVIDIA_SMI_NO_DRIVER_EXIT = 9  # nvidia-smi: "couldn't communicate with the NVIDIA driver"
NA_VALUES = ("[N/A]", "N/A", "[Not Supported]", "Not Supported", "")

_XID_RE = re.compile(r"NVRM: Xid \(PCI:([0-9A-Fa-f:.]+)\): (\d+),")
_DRIVER_VERSION_RE = re.compile(r"Kernel Module(?: for x86_64)?\s+(\d+\.\d+(?:\.\d+)?)")
_NVLINK_GPU_RE = re.compile(r"^GPU (\d+): ")
_NVLINK_LINK_RE = re.compile(r"^\s*Link (\d+): (.+)$")
_NCCL_BUSBW_RE = re.compile(r"#\s*Avg bus bandwidth\s*:\s*([0-9.]+)")
_FM_VERSION_RE = re.compile(r"version is\s*:\s*(\d+\.\d+(?:\.\d+)?)")


def _value(text: str):
    """A CSV cell: None for 'not available', int when it is a number, else the stripped text."""
    text = text.strip()
    if text in NA_VALUES:
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _flag(value) -> bool | None:
    """nvidia-smi prints booleans as Yes/No, Enabled/Disabled or 0/1 depending on the field."""
    if value is None:
        return None
    return str(value).strip().lower() in ("1", "yes", "true", "enabled", "active")


def normalize_bus_id(bus_id: str) -> str:
    """'00000000:53:00.0' (nvidia-smi), '0000:53:00' (NVRM) and NVML's forms -> '0000:53:00'."""
    bus_id = bus_id.strip().lower()
    domain, bus, rest = bus_id.split(":", 2)
    return "%04x:%s:%s" % (int(domain, 16), bus, rest.split(".")[0])


def parse_query_gpu(text: str, fields=QUERY_GPU_FIELDS) -> list[dict]:
    """`nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` -> one dict per GPU (dots -> '_')."""
    gpus = []
    for line in text.strip().splitlines():
        cells = [c for c in line.split(",")]
        if len(cells) != len(fields):
            raise ValueError("nvidia-smi returned %d fields, expected %d: %r" % (len(cells), len(fields), line))
        gpus.append({f.replace(".", "_"): _value(c) for f, c in zip(fields, cells)})
    return gpus


def parse_remapped_rows(text: str) -> dict[str, dict]:
    """`nvidia-smi --query-remapped-rows=...` -> {bus id: {pending, failure, uncorrectable}}."""
    rows = {}
    for line in text.strip().splitlines():
        bus_id, pending, failure, uncorrectable = (c.strip() for c in line.split(","))
        rows[normalize_bus_id(bus_id)] = {
            "pending": _flag(_value(pending)),
            "failure": _flag(_value(failure)),
            "uncorrectable": _value(uncorrectable),
        }
    return rows


def parse_driver_version(proc_text: str) -> str | None:
    """/proc/driver/nvidia/version -> '550.90.07' (None when the module is not loaded)."""
    match = _DRIVER_VERSION_RE.search(proc_text)
    return match.group(1) if match else None


def parse_xids(kernel_log: str) -> list[dict]:
    """Kernel log lines `NVRM: Xid (PCI:0000:53:00): 79, ...` -> [{xid, bus_id, line}] in log order."""
    found = []
    for line in kernel_log.splitlines():
        match = _XID_RE.search(line)
        if match:
            found.append({"xid": int(match.group(2)), "bus_id": normalize_bus_id(match.group(1)),
                          "line": line.strip()})
    return found


def parse_nvlink_status(text: str) -> dict[int, dict[int, bool]]:
    """`nvidia-smi nvlink --status` -> {gpu index: {link: up}}; '<inactive>' means down."""
    links: dict[int, dict[int, bool]] = {}
    gpu = None
    for line in text.splitlines():
        gpu_match = _NVLINK_GPU_RE.match(line)
        if gpu_match:
            gpu = int(gpu_match.group(1))
            links[gpu] = {}
            continue
        link_match = _NVLINK_LINK_RE.match(line)
        if link_match and gpu is not None:
            links[gpu][int(link_match.group(1))] = "inactive" not in link_match.group(2).lower()
    return links


def parse_fabric_states(query_text: str) -> list[str]:
    """`nvidia-smi -q` -> the Fabric 'State' of each GPU in order ('Completed' once Fabric Manager is done)."""
    states, in_fabric = [], False
    for line in query_text.splitlines():
        stripped = line.strip()
        if stripped == "Fabric":
            in_fabric = True
        elif in_fabric and stripped.startswith("State"):
            states.append(stripped.split(":", 1)[1].strip())
            in_fabric = False
    return states


def parse_fm_version(text: str) -> str | None:
    """`nv-fabricmanager --version` -> '550.90.07'."""
    match = _FM_VERSION_RE.search(text)
    return match.group(1) if match else None


def parse_nccl_busbw(text: str) -> float | None:
    """nccl-tests `all_reduce_perf` output -> average bus bandwidth in GB/s."""
    match = _NCCL_BUSBW_RE.search(text)
    return float(match.group(1)) if match else None


def parse_dcgmi_diag(json_obj: dict) -> list[str]:
    """`dcgmi diag -r N -j` JSON -> names of the tests that did not pass (empty when all passed)."""
    failed = []
    for category in json_obj.get("DCGM GPU Diagnostic", {}).get("test_categories", []):
        for test in category.get("tests", []):
            statuses = {str(r.get("status", "")).lower() for r in test.get("results", [])}
            if statuses & {"fail", "error"}:
                failed.append(test.get("name", "?"))
    return sorted(failed)


# ---- checks: each takes (facts, expect) and returns (status, message) --------------------------------


def _gpus(facts):
    return facts.get("gpus", [])


def check_driver_loaded(facts, expect):
    if facts.get("driver_loaded"):
        return "pass", "NVIDIA driver %s loaded" % facts.get("driver_version")
    return "fail", "NVIDIA driver not loaded: %s" % facts.get("driver_error", "nvidia-smi exited %d"
                                                               % NVIDIA_SMI_NO_DRIVER_EXIT)


def check_gpu_count(facts, expect):
    want, have = expect["expected_count"], len(_gpus(facts))
    if have == want:
        return "pass", "%d GPUs, as %s promises" % (have, expect.get("instance_type") or "the inventory")
    return "fail", "%d GPUs visible, expected %d (expected_accelerators of %s)" % (
        have, want, expect.get("instance_type") or "this host")


def check_driver_branch(facts, expect):
    version = facts.get("driver_version") or ""
    if version.split(".")[0] == str(expect["driver_branch"]):
        return "pass", "driver %s is on branch %s" % (version, expect["driver_branch"])
    return "fail", "driver %s is not on branch %s (nvidia_driver_branch)" % (version, expect["driver_branch"])


def check_ecc_uncorrectable(facts, expect):
    bad = ["GPU %s: %s volatile / %s aggregate" % (g["index"], g.get("ecc_errors_uncorrected_volatile_total"),
                                                   g.get("ecc_errors_uncorrected_aggregate_total"))
           for g in _gpus(facts)
           if (g.get("ecc_errors_uncorrected_volatile_total") or 0) > 0
           or (g.get("ecc_errors_uncorrected_aggregate_total") or 0) > 0]
    disabled = ["GPU %s" % g["index"] for g in _gpus(facts) if _flag(g.get("ecc_mode_current")) is False]
    if bad:
        return "fail", "uncorrectable ECC errors: " + "; ".join(bad)
    if disabled and expect.get("require_ecc", True):
        return "fail", "ECC disabled on " + ", ".join(disabled)
    return "pass", "no uncorrectable ECC errors"


def check_retired_pages(facts, expect):
    pending = ["GPU %s" % g["index"] for g in _gpus(facts) if _flag(g.get("retired_pages_pending"))]
    if pending:
        return "fail", "retired pages pending (reset the GPU): " + ", ".join(pending)
    return "pass", "no retired pages pending"


def check_remapped_rows(facts, expect):
    rows = facts.get("remapped_rows")
    if rows is None:
        return "skip", "row remapping not reported (pre-Ampere GPU)"
    problems = []
    for bus_id, row in sorted(rows.items()):
        if row.get("pending"):
            problems.append("%s remapping pending (reset the GPU)" % bus_id)
        if row.get("failure"):
            problems.append("%s remapping failed (replace the GPU)" % bus_id)
    if problems:
        return "fail", "; ".join(problems)
    return "pass", "no pending or failed row remapping"


def check_pcie_link(facts, expect):
    problems, idle_downshift = [], []
    for g in _gpus(facts):
        width, width_max = g.get("pcie_link_width_current"), g.get("pcie_link_width_max")
        gen, gen_max = g.get("pcie_link_gen_current"), g.get("pcie_link_gen_max")
        if width is not None and width_max is not None and width < width_max:
            problems.append("GPU %s PCIe width x%d < x%d" % (g["index"], width, width_max))
        if gen is not None and gen_max is not None and gen < gen_max:
            reasons = g.get("clocks_event_reasons_active") or g.get("clocks_throttle_reasons_active") or "0x0"
            if int(str(reasons), 16) & CLOCK_REASON_GPU_IDLE:
                idle_downshift.append(str(g["index"]))  # power saving at idle, not a fault
            else:
                problems.append("GPU %s PCIe gen %d < gen %d while busy" % (g["index"], gen, gen_max))
    if problems:
        return "fail", "; ".join(problems)
    note = " (GPUs %s idle at a lower generation)" % ",".join(idle_downshift) if idle_downshift else ""
    return "pass", "PCIe links at maximum width and generation" + note


def check_xid(facts, expect):
    critical = [x for x in facts.get("xids", []) if x["xid"] in CRITICAL_XIDS]
    if critical:
        seen = sorted({"Xid %d on %s" % (x["xid"], x["bus_id"]) for x in critical})
        return "fail", "critical XIDs in the kernel log: " + ", ".join(seen)
    other = sorted({x["xid"] for x in facts.get("xids", [])})
    return "pass", "no critical XIDs" + (" (non-critical: %s)" % other if other else "")


def check_fabric_manager(facts, expect):
    if not expect.get("nvswitch"):
        return "skip", "no NVSwitch on this instance type"
    fm = facts.get("fabric_manager") or {}
    if fm.get("state") != "active":
        return "fail", "nvidia-fabricmanager is %s, must be active on NVSwitch systems" % fm.get("state", "absent")
    if fm.get("version") != facts.get("driver_version"):
        return "fail", "Fabric Manager %s differs from driver %s" % (fm.get("version"), facts.get("driver_version"))
    not_done = [str(i) for i, s in enumerate(facts.get("fabric_states", [])) if s != "Completed"]
    if not_done:
        return "fail", "GPU fabric registration not Completed on GPUs " + ",".join(not_done)
    return "pass", "Fabric Manager %s active, fabric Completed" % fm.get("version")


def check_nvlink(facts, expect):
    if not expect.get("nvlink"):
        return "skip", "no NVLink on this instance type"
    links = facts.get("nvlink")
    if not links:
        return "fail", "no NVLink reported, the instance type has NVLink"
    down = ["GPU %d link %d" % (gpu, link) for gpu, states in sorted(links.items())
            for link, up in sorted(states.items()) if not up]
    if down:
        return "fail", "NVLinks down: " + ", ".join(down)
    return "pass", "%d NVLinks up" % sum(len(s) for s in links.values())


def check_dcgm_diag(facts, expect):
    if not expect.get("dcgm_diag_level"):
        return "skip", "dcgmi diag not requested (gpu_validate_dcgm_diag_level: 0)"
    failed = facts.get("dcgm_failed_tests")
    if failed is None:
        return "fail", "dcgmi diag -r %d did not run: %s" % (expect["dcgm_diag_level"], facts.get("dcgm_error"))
    if failed:
        return "fail", "dcgmi diag -r %d failed: %s" % (expect["dcgm_diag_level"], ", ".join(failed))
    return "pass", "dcgmi diag -r %d passed" % expect["dcgm_diag_level"]


def check_nccl_bandwidth(facts, expect):
    minimum = expect.get("nccl_min_busbw_gbps") or 0
    if not minimum:
        return "skip", "no NCCL bandwidth gate for this instance type"
    busbw = facts.get("nccl_busbw_gbps")
    if busbw is None:
        return "fail", "all_reduce_perf gave no bus bandwidth: %s" % facts.get("nccl_error")
    if busbw < minimum:
        return "fail", "NCCL all-reduce bus bandwidth %.1f GB/s < %.1f GB/s" % (busbw, minimum)
    return "pass", "NCCL all-reduce bus bandwidth %.1f GB/s >= %.1f GB/s" % (busbw, minimum)


# Order matters: when the driver is not loaded, every later check is skipped, not failed.
CHECKS = (
    ("driver_loaded", check_driver_loaded),
    ("gpu_count", check_gpu_count),
    ("driver_branch", check_driver_branch),
    ("ecc_uncorrectable", check_ecc_uncorrectable),
    ("retired_pages", check_retired_pages),
    ("remapped_rows", check_remapped_rows),
    ("pcie_link", check_pcie_link),
    ("xid", check_xid),
    ("fabric_manager", check_fabric_manager),
    ("nvlink", check_nvlink),
    ("dcgm_diag", check_dcgm_diag),
    ("nccl_bandwidth", check_nccl_bandwidth),
)
CHECK_NAMES = tuple(name for name, _ in CHECKS)


def evaluate(facts: dict, expect: dict) -> dict:
    """Run every check; the report lists them in CHECKS order with the failed names apart."""
    results = []
    for name, check in CHECKS:
        if name != "driver_loaded" and not facts.get("driver_loaded"):
            status, message = "skip", "driver not loaded"
        else:
            status, message = check(facts, expect)
        results.append({"name": name, "status": status, "message": message})
    failed = [r["name"] for r in results if r["status"] == "fail"]
    return {"healthy": not failed, "failed": failed, "checks": results}
