#!/usr/bin/python
"""Ansible module: gather GPU health facts (NVML, nvidia-smi fall-back) and evaluate them."""

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_validate_facts
short_description: Gather GPU node health through NVML or nvidia-smi and decide whether the node is healthy
description:
  - Reads NVML through nvidia-ml-py (pynvml) when it is importable and the driver answers, else nvidia-smi.
  - Evaluates driver, GPU count, branch, ECC, retired pages, remapped rows, PCIe link, critical XIDs,
    Fabric Manager, NVLink and, on request, dcgmi diag and NCCL all-reduce bandwidth.
  - Never fails by itself; the report's C(failed) list says which checks failed.
options:
  expected_count: {description: GPUs the instance type promises., type: int, required: true}
  driver_branch: {description: Driver branch the node must run., type: str, required: true}
  instance_type: {description: Instance type (for messages)., type: str, default: ""}
  nvswitch: {description: Fabric Manager must run (NVSwitch system)., type: bool, default: false}
  nvlink: {description: NVLinks must be up., type: bool, default: false}
  require_ecc: {description: ECC must be enabled., type: bool, default: true}
  dcgm_diag_level: {description: dcgmi diag run level, 0 to skip., type: int, default: 0}
  nccl_min_busbw_gbps: {description: Minimum all_reduce_perf bus bandwidth, 0 to skip., type: float, default: 0}
  prefer: {description: Fact source., type: str, default: auto, choices: [auto, nvml, nvidia-smi]}
  nvidia_smi: {description: nvidia-smi executable., type: str, default: nvidia-smi}
  kernel_log_command: {description: Command printing the kernel log., type: list, elements: str,
                       default: [dmesg, --kernel]}
  proc_version_path: {description: Driver version file., type: path, default: /proc/driver/nvidia/version}
  fabric_manager_binary: {description: Fabric Manager executable., type: str, default: nv-fabricmanager}
  nccl_all_reduce_perf: {description: nccl-tests all_reduce_perf executable., type: str, default: all_reduce_perf}
author: newinfra
"""

RETURN = r"""
report: {description: checks with status and message, healthy flag, failed check names and the facts., type: dict,
         returned: always}
"""

import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.gpu_facts import gather_node  # noqa: E402
from ansible.module_utils.gpu_health import evaluate  # noqa: E402

try:
    import pynvml
except ImportError:  # nvidia-ml-py is optional on the node: nvidia-smi is the fall-back
    pynvml = None


def _read_file(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            expected_count=dict(type="int", required=True),
            driver_branch=dict(type="str", required=True),
            instance_type=dict(type="str", default=""),
            nvswitch=dict(type="bool", default=False),
            nvlink=dict(type="bool", default=False),
            require_ecc=dict(type="bool", default=True),
            dcgm_diag_level=dict(type="int", default=0),
            nccl_min_busbw_gbps=dict(type="float", default=0),
            prefer=dict(type="str", default="auto", choices=["auto", "nvml", "nvidia-smi"]),
            nvidia_smi=dict(type="str", default="nvidia-smi"),
            kernel_log_command=dict(type="list", elements="str", default=["dmesg", "--kernel"]),
            proc_version_path=dict(type="path", default="/proc/driver/nvidia/version"),
            fabric_manager_binary=dict(type="str", default="nv-fabricmanager"),
            nccl_all_reduce_perf=dict(type="str", default="all_reduce_perf"),
        ),
        supports_check_mode=True,
    )
    params = dict(module.params)

    def run(argv):
        try:
            return module.run_command(argv, handle_exceptions=False)
        except OSError as error:  # the binary is absent: report it like a failing command
            return 127, "", str(error)

    nvml = pynvml if params["prefer"] != "nvidia-smi" else None
    facts = gather_node(run, _read_file, params, nvml)
    expect = {k: params[k] for k in ("expected_count", "driver_branch", "instance_type", "nvswitch", "nvlink",
                                     "require_ecc", "dcgm_diag_level", "nccl_min_busbw_gbps")}
    report = evaluate(facts, expect)
    report["facts"] = facts
    report["expect"] = expect
    module.exit_json(changed=False, report=report)


if __name__ == "__main__":
    main()
