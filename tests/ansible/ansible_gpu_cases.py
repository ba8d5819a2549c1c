"""Recorded healthy p5.48xlarge (8x H100, NVSwitch) and the faults gpu_validate must catch.

Each fault is the healthy recording with the lines a real fault changes, and names the ONE check that must
fail on it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "gpu_validate"
HEALTHY = FIXTURES / "p5.48xlarge-healthy"
P5_EXPECT = {"expected_count": 8, "driver_branch": "580", "instance_type": "p5.48xlarge", "nvswitch": True,
             "nvlink": True, "require_ecc": True, "dcgm_diag_level": 0, "nccl_min_busbw_gbps": 0}


@dataclass(frozen=True)
class Case:
    name: str
    failing_check: str | None
    edits: tuple = ()  # (file, old text, new text); old None = append new; file None = write new file
    expect: dict = field(default_factory=dict)


def _row(index: int) -> str:
    return (HEALTHY / "query_gpu.csv").read_text().splitlines()[index]


CASES = (
    Case("healthy", None),
    Case("healthy-with-dcgm-and-nccl-gates", None, expect={"dcgm_diag_level": 1, "nccl_min_busbw_gbps": 300}),
    Case("driver-not-loaded", "driver_loaded",
         ((None, "nvidia_smi_rc", "9"),
          (None, "nvidia_smi_out.txt", (FIXTURES / "nvidia_smi_no_driver.txt").read_text()))),
    Case("gpu-count-mismatch", "gpu_count", (("query_gpu.csv", _row(7) + "\n", ""),)),
    Case("wrong-driver-branch", "driver_branch", expect={"driver_branch": "570"}),
    Case("ecc-uncorrectable", "ecc_uncorrectable",
         (("query_gpu.csv", _row(3), _row(3).replace("Enabled, 0, 0,", "Enabled, 2, 2,")),)),
    Case("retired-pages-pending", "retired_pages",
         (("query_gpu.csv", _row(1), _row(1).replace("[N/A]", "Yes")),)),
    Case("remapped-rows-pending", "remapped_rows",
         (("remapped_rows.csv", "00000000:86:00.0, 0, 0, 0", "00000000:86:00.0, 1, 0, 1"),)),
    Case("remapping-failed", "remapped_rows",
         (("remapped_rows.csv", "00000000:A8:00.0, 0, 0, 0", "00000000:A8:00.0, 0, 1, 4"),)),
    Case("pcie-width-degraded", "pcie_link",
         (("query_gpu.csv", _row(2), _row(2).replace("5, 5, 16, 16", "5, 5, 8, 16")),)),
    Case("pcie-gen-degraded-under-load", "pcie_link",
         (("query_gpu.csv", _row(4), _row(4).replace("5, 5, 16, 16", "3, 5, 16, 16")),)),
    Case("critical-xid", "xid",
         (("dmesg.txt", None, "[ 7012.118734] NVRM: Xid (PCI:0000:b9:00): 79, pid='<unknown>', name=<unknown>, "
                              "GPU has fallen off the bus.\n"),)),
    Case("fabric-manager-down", "fabric_manager", (("fm_state.txt", "active", "failed"),)),
    Case("fabric-manager-version-mismatch", "fabric_manager", (("fm_version.txt", "580.95.05", "580.82.07"),)),
    Case("fabric-registration-incomplete", "fabric_manager",
         (("nvidia_smi_q.txt", "GPU-3d4e5f6a-7b8c-4d9e-9f0a-6b7c8d9e0fb5\n    Fabric\n        State                             : Completed",
           "GPU-3d4e5f6a-7b8c-4d9e-9f0a-6b7c8d9e0fb5\n    Fabric\n        State                             : In Progress"),)),
    Case("nvlink-down", "nvlink",
         (("nvlink_status.txt", "\t Link 17: 26.562 GB/s\nGPU 5:", "\t Link 17: <inactive>\nGPU 5:"),)),
    Case("dcgm-diag-failure", "dcgm_diag",
         (("dcgmi_diag.json", '{"name": "memory", "results": [{"gpu_id": "0", "status": "Pass"}',
           '{"name": "memory", "results": [{"gpu_id": "0", "status": "Fail"}'),),
         expect={"dcgm_diag_level": 1}),
    Case("nccl-bandwidth-low", "nccl_bandwidth", expect={"nccl_min_busbw_gbps": 400}),
)


def materialize(case: Case, target: Path) -> Path:
    """Copy the healthy recording to `target` and apply the case's edits; returns `target`."""
    shutil.copytree(HEALTHY, target)
    for name, old, new in case.edits:
        if name is None:
            (target / old).write_text(new)
            continue
        path = target / name
        text = path.read_text()
        if old is None:
            text += new
        else:
            assert text.count(old) == 1, f"{case.name}: {old!r} must occur once in {name}"
            text = text.replace(old, new)
        path.write_text(text)
    return target


def expectations(case: Case) -> dict:
    return {**P5_EXPECT, **case.expect}
