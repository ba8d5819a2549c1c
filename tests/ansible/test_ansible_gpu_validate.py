"""gpu_validate decisions on recorded outputs of a healthy p5.48xlarge and of each fault it must catch."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from datetime import UTC, datetime
from pathlib import Path

import fakegpu
import pytest
from ansible_gpu_cases import CASES, HEALTHY, P5_EXPECT, Case, expectations, materialize
from hypothesis import given
from hypothesis import strategies as st

ROLE = Path(__file__).resolve().parents[2] / "ansible" / "roles" / "gpu_validate"


def _load(name: str):
    """Load a role module_utils file under the name Ansible gives it on the node."""
    spec = importlib.util.spec_from_file_location(f"ansible.module_utils.{name}", ROLE / "module_utils" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"ansible.module_utils.{name}"] = module
    spec.loader.exec_module(module)
    return module


health = _load("gpu_health")
gather = _load("gpu_facts")


def replay_runner(fixture: Path):
    """run(argv) answering from the recording, exactly as tests/ansible/fakegpu.py does on PATH."""

    def run(argv):
        code, out = fakegpu.answer(Path(argv[0]).name, list(argv[1:]), fixture)
        return (code, out, "") if code != 2 else (code, "", out)

    return run


def _facts(fixture: Path, expect: dict) -> dict:
    params = {"kernel_log_command": ["dmesg", "--kernel"], "proc_version_path": str(fixture / "proc_version.txt"),
              **expect}

    def read(path):
        return Path(path).read_text() if Path(path).exists() else None

    if (fixture / "nvidia_smi_rc").exists():
        params["proc_version_path"] = str(fixture / "absent")  # the module is not loaded: no /proc entry
    return gather.gather_node(replay_runner(fixture), read, params, nvml=None)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_fault_fails_on_its_own_check(case: Case, tmp_path: Path) -> None:
    fixture = materialize(case, tmp_path / case.name)
    expect = expectations(case)
    report = health.evaluate(_facts(fixture, expect), expect)
    assert report["failed"] == ([case.failing_check] if case.failing_check else []), report["checks"]
    assert report["healthy"] is (case.failing_check is None)
    assert [c["name"] for c in report["checks"]] == list(health.CHECK_NAMES)


def test_healthy_node_facts_read_from_nvidia_smi() -> None:
    facts = _facts(HEALTHY, P5_EXPECT)
    assert facts["driver_version"] == "580.95.05"  # from /proc/driver/nvidia/version
    assert [g["pci_bus_id"] for g in facts["gpus"]][:2] == ["00000000:53:00.0", "00000000:64:00.0"]
    assert facts["remapped_rows"]["0000:ca:00"] == {"pending": False, "failure": False, "uncorrectable": 0}
    assert all(len(links) == 18 and all(links.values()) for links in facts["nvlink"].values())
    assert facts["fabric_states"] == ["Completed"] * 8
    assert facts["xids"] == [{"xid": 31, "bus_id": "0000:97:00", "line": facts["xids"][0]["line"]}]
    assert facts["fabric_manager"] == {"state": "active", "version": "580.95.05"}
    report = health.evaluate(facts, P5_EXPECT)
    assert "GPUs 6,7 idle at a lower generation" in _message(report, "pcie_link")
    assert "non-critical: [31]" in _message(report, "xid")


def test_driver_not_loaded_names_exit_9_and_skips_the_rest(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "driver-not-loaded")
    report = health.evaluate(_facts(materialize(case, tmp_path / "x"), P5_EXPECT), P5_EXPECT)
    assert "nvidia-smi exited 9" in _message(report, "driver_loaded")
    assert "couldn't communicate with the NVIDIA driver" in _message(report, "driver_loaded")
    assert {c["status"] for c in report["checks"][1:]} == {"skip"}


def test_messages_name_what_to_fix(tmp_path: Path) -> None:
    by_name = {c.name: c for c in CASES}
    cases = {"gpu-count-mismatch": "7 GPUs visible, expected 8 (expected_accelerators of p5.48xlarge)",
             "wrong-driver-branch": "driver 580.95.05 is not on branch 570 (nvidia_driver_branch)",
             "critical-xid": "Xid 79 on 0000:b9:00",
             "fabric-manager-version-mismatch": "Fabric Manager 580.82.07 differs from driver 580.95.05",
             "nvlink-down": "NVLinks down: GPU 4 link 17",
             "pcie-width-degraded": "GPU 2 PCIe width x8 < x16",
             "dcgm-diag-failure": "dcgmi diag -r 1 failed: memory",
             "nccl-bandwidth-low": "362.5 GB/s < 400.0 GB/s"}
    for name, text in cases.items():
        case = by_name[name]
        report = health.evaluate(_facts(materialize(case, tmp_path / name), expectations(case)), expectations(case))
        assert text in _message(report, case.failing_check)


def _message(report: dict, check: str) -> str:
    return next(c["message"] for c in report["checks"] if c["name"] == check)


# ---- NVML path: a recorded nvidia-ml-py session ----------------------------------------------------


class _NVMLError(Exception):
    def __init__(self, value):
        super().__init__(f"NVML error {value}")
        self.value = value


def recorded_nvml(recording: dict, init_error: int | None = None) -> types.SimpleNamespace:
    """A pynvml stand-in answering from nvml.json with nvidia-ml-py's function names and error model."""
    devices = recording["devices"]
    not_supported, lib_not_found = 3, 12

    def answer(value):
        if value == "NOT_SUPPORTED":
            raise _NVMLError(not_supported)
        return value

    def init():
        if init_error is not None:
            raise _NVMLError(init_error)

    return types.SimpleNamespace(
        NVMLError=_NVMLError, NVML_ERROR_NOT_SUPPORTED=not_supported, NVML_ERROR_INVALID_ARGUMENT=2,
        NVML_ERROR_LIBRARY_NOT_FOUND=lib_not_found, NVML_MEMORY_ERROR_TYPE_UNCORRECTED=1, NVML_VOLATILE_ECC=0,
        NVML_AGGREGATE_ECC=1, NVML_NVLINK_MAX_LINKS=18,
        nvmlInit=init, nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: recording["driver_version"],
        nvmlDeviceGetCount=lambda: len(devices), nvmlDeviceGetHandleByIndex=lambda i: devices[i],
        nvmlDeviceGetUUID=lambda d: d["uuid"], nvmlDeviceGetName=lambda d: d["name"],
        nvmlDeviceGetPciInfo=lambda d: types.SimpleNamespace(busId=d["bus_id"].encode()),
        nvmlDeviceGetEccMode=lambda d: d["ecc_mode"],
        nvmlDeviceGetTotalEccErrors=lambda d, kind, counter: d["ecc_uncorrected_volatile" if counter == 0
                                                                 else "ecc_uncorrected_aggregate"],
        nvmlDeviceGetRetiredPagesPendingStatus=lambda d: answer(d["retired_pages_pending"]),
        nvmlDeviceGetCurrPcieLinkGeneration=lambda d: d["pcie_gen"][0],
        nvmlDeviceGetMaxPcieLinkGeneration=lambda d: d["pcie_gen"][1],
        nvmlDeviceGetCurrPcieLinkWidth=lambda d: d["pcie_width"][0],
        nvmlDeviceGetMaxPcieLinkWidth=lambda d: d["pcie_width"][1],
        nvmlDeviceGetCurrentClocksEventReasons=lambda d: d["clocks_event_reasons"],
        nvmlDeviceGetRemappedRows=lambda d: answer(d["remapped_rows"]),
        nvmlDeviceGetNvLinkState=lambda d, link: d["nvlink_states"][link],
        nvmlDeviceGetGpuFabricInfo=lambda d: types.SimpleNamespace(state=d["fabric_state"], status=0),
    )


def test_nvml_facts_match_nvidia_smi_facts() -> None:
    recording = json.loads((HEALTHY / "nvml.json").read_text())
    params = {"kernel_log_command": ["dmesg", "--kernel"], "proc_version_path": str(HEALTHY / "proc_version.txt"),
              **P5_EXPECT}
    via_nvml = gather.gather_node(replay_runner(HEALTHY), lambda p: Path(p).read_text(), params,
                                  recorded_nvml(recording))
    via_smi = _facts(HEALTHY, P5_EXPECT)
    assert via_nvml["source"] == "nvml"
    for key in ("driver_version", "remapped_rows", "nvlink", "fabric_states", "xids", "fabric_manager"):
        assert via_nvml[key] == via_smi[key], key
    for nvml_gpu, smi_gpu in zip(via_nvml["gpus"], via_smi["gpus"], strict=True):
        for key, value in nvml_gpu.items():
            if key != "retired_pages_pending":  # NVML: not supported on Hopper; nvidia-smi prints [N/A]
                assert value == smi_gpu[key], key
    assert health.evaluate(via_nvml, P5_EXPECT)["healthy"]


def test_nvml_library_missing_falls_back_to_nvidia_smi() -> None:
    recording = json.loads((HEALTHY / "nvml.json").read_text())
    params = {"kernel_log_command": ["dmesg", "--kernel"], "proc_version_path": str(HEALTHY / "proc_version.txt")}
    facts = gather.gather_node(replay_runner(HEALTHY), lambda p: Path(p).read_text(), params,
                               recorded_nvml(recording, init_error=12))
    assert facts["source"] == "nvidia-smi" and "NVML error 12" in facts["nvml_error"]
    assert len(facts["gpus"]) == 8


@given(st.lists(st.sampled_from(sorted(health.CRITICAL_XIDS | {13, 31, 43, 45, 94})), max_size=6))
def test_xid_check_fails_exactly_when_a_critical_xid_is_logged(xids: list[int]) -> None:
    log = "".join(f"[ {i}.0] NVRM: Xid (PCI:0000:53:00): {x}, pid=1, name=x, detail\n" for i, x in enumerate(xids))
    facts = {"driver_loaded": True, "xids": health.parse_xids(log)}
    status, _ = health.check_xid(facts, P5_EXPECT)
    assert (status == "fail") == any(x in health.CRITICAL_XIDS for x in xids)


def test_legacy_driver_throttle_field_is_retried() -> None:
    calls = []

    def run(argv):
        calls.append(argv)
        if "clocks_event_reasons.active" in argv[1]:
            return 2, "", 'Field "clocks_event_reasons.active" is not a valid field to query.'
        if argv[1].startswith("--query-gpu="):
            return 0, (HEALTHY / "query_gpu.csv").read_text().replace("580.95.05", "535.161.08"), ""
        return 0, "", ""

    facts = gather.gather_nvidia_smi(run)
    assert "clocks_throttle_reasons.active" in calls[1][1]
    assert facts["gpus"][6]["clocks_throttle_reasons_active"] == "0x0000000000000001"
    assert facts["driver_version"] == "535.161.08"


# ---- the role itself: ansible-playbook validate.yml on localhost, each recorded node served on PATH ---------


def _host_vars(case: Case, tmp_path: Path, reports: Path) -> dict:
    """One inventory host per case: its recording behind fake nvidia-smi & co, its expectations as host vars."""
    fixture = materialize(case, tmp_path / case.name)
    fake_bin = tmp_path / f"{case.name}-bin"
    fake_bin.mkdir()
    for tool in ("nvidia-smi", "nv-fabricmanager", "systemctl", "dmesg", "dcgmi", "all_reduce_perf"):
        (fake_bin / tool).symlink_to(Path(fakegpu.__file__).resolve())
    expect = expectations(case)
    proc_version = fixture / ("absent" if case.failing_check == "driver_loaded" else "proc_version.txt")
    return {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False,
        "expected_accelerators": expect["expected_count"], "nvidia_driver_branch": expect["driver_branch"],
        "instance_type": "p5.48xlarge", "gpu_validate_dcgm_diag_level": expect["dcgm_diag_level"],
        "gpu_validate_nccl_gate": bool(expect["nccl_min_busbw_gbps"]),
        "gpu_validate_profile": {"nvswitch": True, "nvlink": True,
                                 "nccl_min_busbw_gbps": expect["nccl_min_busbw_gbps"]},
        "gpu_validate_proc_version_path": str(proc_version), "gpu_validate_report_dir": str(reports),
        "gpu_validate_environment": {"PATH": f"{fake_bin}:/usr/bin:/bin", "NEWINFRA_GPU_FIXTURE": str(fixture)},
    }


def test_validate_playbook_gates_each_node_and_writes_its_report(tmp_path: Path) -> None:
    from ansible_targets import ansible_playbook

    reports = tmp_path / "reports"
    hosts = {case.name: _host_vars(case, tmp_path, reports) for case in CASES}
    started = datetime.now(UTC).replace(microsecond=0)
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"gpu": {"hosts": hosts}}}}))
    result = ansible_playbook("playbooks/validate.yml", inventory)
    assert result.rc != 0  # the faulty nodes fail the play, the healthy ones pass it
    for case in CASES:
        report = json.loads((reports / f"{case.name}.json").read_text())
        assert report["host"] == case.name
        # the deploy gate accepts a report only when it was written after the deploy
        assert started <= datetime.fromisoformat(report["validatedAt"]) <= datetime.now(UTC), report["validatedAt"]
        assert report["failed"] == ([case.failing_check] if case.failing_check else []), case.name
        recap = result.recap(case.name)
        assert recap["failed"] == (1 if case.failing_check else 0), case.name
        if case.failing_check:
            assert f"{case.name} is not healthy, failed checks: {case.failing_check}" in result.output
        else:
            assert report["facts"]["source"] == "nvidia-smi" and report["facts"]["nvml_error"]
