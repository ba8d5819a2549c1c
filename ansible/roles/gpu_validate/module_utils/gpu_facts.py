"""Gather a GPU node's health facts through NVML (nvidia-ml-py), with nvidia-smi as fall-back.

`run(argv) -> (rc, stdout, stderr)` and the `pynvml` module are passed in, so the same code runs on a node
(AnsibleModule.run_command, the real pynvml) and in tests (recorded outputs). Python >= 3.9.
"""

from __future__ import annotations

import json

from ansible.module_utils.gpu_health import (
    NVIDIA_SMI_NO_DRIVER_EXIT,
    QUERY_GPU_FIELDS,
    QUERY_GPU_FIELDS_LEGACY,
    QUERY_REMAPPED_FIELDS,
    normalize_bus_id,
    parse_dcgmi_diag,
    parse_driver_version,
    parse_fabric_states,
    parse_fm_version,
    parse_nccl_busbw,
    parse_nvlink_status,
    parse_query_gpu,
    parse_remapped_rows,
    parse_xids,
)

NVML_FABRIC_STATE_NAMES = {0: "Not Supported", 1: "Not Started", 2: "In Progress", 3: "Completed"}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def gather_nvml(nvml) -> dict:
    """Facts from NVML. Raises nvml.NVMLError when the library or the driver is missing."""
    nvml.nvmlInit()
    try:
        facts = {"source": "nvml", "driver_loaded": True,
                 "driver_version": _text(nvml.nvmlSystemGetDriverVersion()), "gpus": [], "nvlink": {},
                 "fabric_states": [], "remapped_rows": {}}
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            bus_id = _text(nvml.nvmlDeviceGetPciInfo(handle).busId)
            ecc_current = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetEccMode(h)[0])
            gpu = {
                "index": index, "uuid": _text(nvml.nvmlDeviceGetUUID(handle)),
                "name": _text(nvml.nvmlDeviceGetName(handle)), "pci_bus_id": bus_id,
                "ecc_mode_current": None if ecc_current is None else ("Enabled" if ecc_current else "Disabled"),
                "ecc_errors_uncorrected_volatile_total": _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetTotalEccErrors(
                    h, nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nvml.NVML_VOLATILE_ECC)),
                "ecc_errors_uncorrected_aggregate_total": _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetTotalEccErrors(
                    h, nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, nvml.NVML_AGGREGATE_ECC)),
                "retired_pages_pending": _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetRetiredPagesPendingStatus(h)),
                "pcie_link_gen_current": nvml.nvmlDeviceGetCurrPcieLinkGeneration(handle),
                "pcie_link_gen_max": nvml.nvmlDeviceGetMaxPcieLinkGeneration(handle),
                "pcie_link_width_current": nvml.nvmlDeviceGetCurrPcieLinkWidth(handle),
                "pcie_link_width_max": nvml.nvmlDeviceGetMaxPcieLinkWidth(handle),
                "clocks_event_reasons_active": "0x%016x" % nvml.nvmlDeviceGetCurrentClocksEventReasons(handle),
            }
            facts["gpus"].append(gpu)
            remapped = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetRemappedRows(h))
            if remapped is None:
                facts["remapped_rows"] = None
            elif facts["remapped_rows"] is not None:
                _corr, uncorrectable, pending, failure = remapped
                facts["remapped_rows"][normalize_bus_id(bus_id)] = {
                    "pending": bool(pending), "failure": bool(failure), "uncorrectable": uncorrectable}
            links = {}
            for link in range(nvml.NVML_NVLINK_MAX_LINKS):
                state = _optional(nvml, lambda h=handle, n=link: nvml.nvmlDeviceGetNvLinkState(h, n))
                if state is not None:
                    links[link] = bool(state)
            if links:
                facts["nvlink"][index] = links
            fabric = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetGpuFabricInfo(h))
            if fabric is not None and fabric.state:
                facts["fabric_states"].append(NVML_FABRIC_STATE_NAMES.get(fabric.state, str(fabric.state)))
        return facts
    finally:
        nvml.nvmlShutdown()


def _optional(nvml, call):
    """NVML answers NOT_SUPPORTED for features a GPU lacks (NVLink on PCIe cards, remapping pre-Ampere)."""
    try:
        return call()
    except nvml.NVMLError as error:
        if getattr(error, "value", None) in (nvml.NVML_ERROR_NOT_SUPPORTED, nvml.NVML_ERROR_INVALID_ARGUMENT):
            return None
        raise


def gather_nvidia_smi(run, nvidia_smi="nvidia-smi") -> dict:
    """Facts from nvidia-smi; exit 9 means the driver is not loaded."""
    fields = QUERY_GPU_FIELDS
    rc, out, err = run([nvidia_smi, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"])
    if rc not in (0, NVIDIA_SMI_NO_DRIVER_EXIT) and "clocks_event_reasons" in (out + err):
        fields = QUERY_GPU_FIELDS_LEGACY  # driver older than 535.54.03
        rc, out, err = run([nvidia_smi, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"])
    if rc != 0:
        return {"source": "nvidia-smi", "driver_loaded": False, "gpus": [],
                "driver_error": "nvidia-smi exited %d: %s" % (rc, (out + err).strip()[:300])}
    gpus = parse_query_gpu(out, fields)
    facts = {"source": "nvidia-smi", "driver_loaded": True, "gpus": gpus,
             "driver_version": gpus[0]["driver_version"] if gpus else None}
    rc, out, _ = run([nvidia_smi, "--query-remapped-rows=" + ",".join(QUERY_REMAPPED_FIELDS),
                      "--format=csv,noheader"])
    facts["remapped_rows"] = parse_remapped_rows(out) if rc == 0 and out.strip() else None
    rc, out, _ = run([nvidia_smi, "nvlink", "--status"])
    facts["nvlink"] = parse_nvlink_status(out) if rc == 0 else {}
    rc, out, _ = run([nvidia_smi, "-q"])
    facts["fabric_states"] = parse_fabric_states(out) if rc == 0 else []
    return facts


def gather_node(run, read_file, params, nvml=None) -> dict:
    """Everything the checks need: GPU facts (NVML first), kernel log, Fabric Manager, optional tests."""
    facts = None
    if nvml is not None and params.get("prefer", "auto") in ("auto", "nvml"):
        try:
            facts = gather_nvml(nvml)
        except nvml.NVMLError as error:
            nvml_error = str(error)
            facts = None
        else:
            nvml_error = None
    else:
        nvml_error = "pynvml not used"
    if facts is None:
        facts = gather_nvidia_smi(run, params.get("nvidia_smi", "nvidia-smi"))
        facts["nvml_error"] = nvml_error
    proc_version = read_file(params.get("proc_version_path", "/proc/driver/nvidia/version"))
    if proc_version and facts.get("driver_loaded"):
        facts["driver_version"] = parse_driver_version(proc_version) or facts.get("driver_version")
    if not facts.get("driver_loaded"):
        return facts
    rc, out, err = run(params["kernel_log_command"])
    facts["xids"] = parse_xids(out) if rc == 0 else []
    facts["kernel_log_error"] = None if rc == 0 else err.strip()[:300]
    if params.get("nvswitch"):
        rc, out, _ = run(["systemctl", "is-active", params.get("fabric_manager_service", "nvidia-fabricmanager")])
        state = out.strip() or "unknown"
        rc_v, out_v, _ = run([params.get("fabric_manager_binary", "nv-fabricmanager"), "--version"])
        facts["fabric_manager"] = {"state": state, "version": parse_fm_version(out_v) if rc_v == 0 else None}
    if params.get("dcgm_diag_level"):
        rc, out, err = run(["dcgmi", "diag", "-r", str(params["dcgm_diag_level"]), "-j"])
        try:
            facts["dcgm_failed_tests"] = parse_dcgmi_diag(json.loads(out))
        except ValueError:
            facts["dcgm_failed_tests"], facts["dcgm_error"] = None, (out + err).strip()[:300]
    if params.get("nccl_min_busbw_gbps"):
        gpus = str(len(facts["gpus"]))
        rc, out, err = run([params.get("nccl_all_reduce_perf", "all_reduce_perf"), "-b", "8M", "-e", "1G",
                            "-f", "2", "-g", gpus])
        facts["nccl_busbw_gbps"] = parse_nccl_busbw(out) if rc == 0 else None
        facts["nccl_error"] = None if rc == 0 else (out + err).strip()[-300:]
    return facts
