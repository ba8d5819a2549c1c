#!/usr/bin/env python3
"""Replays a recorded GPU node: installed as nvidia-smi, nv-fabricmanager, systemctl, dmesg, dcgmi and
all_reduce_perf on PATH, it prints the fixture file that the real command printed on that node.

The fixture directory comes from $NEWINFRA_GPU_FIXTURE. Used by the gpu_validate tests, so the module runs
its real commands (same argv as on a node) without a GPU.
"""

import os
import sys
from pathlib import Path


def answer(tool: str, args: list, fixture: Path) -> tuple:
    """(exit code, stdout) the recorded node gave for `tool args`."""

    def replay(name: str, rc: int = 0) -> tuple:
        return rc, (fixture / name).read_text()

    if tool == "nvidia-smi":
        if (fixture / "nvidia_smi_rc").exists():
            return replay("nvidia_smi_out.txt", int((fixture / "nvidia_smi_rc").read_text()))
        first = args[0] if args else ""
        if first.startswith("--query-gpu="):
            return replay("query_gpu.csv")
        if first.startswith("--query-remapped-rows="):
            return replay("remapped_rows.csv")
        if args[:2] == ["nvlink", "--status"]:
            return replay("nvlink_status.txt")
        if args == ["-q"]:
            return replay("nvidia_smi_q.txt")
    elif tool == "nv-fabricmanager" and args == ["--version"]:
        return replay("fm_version.txt")
    elif tool == "systemctl" and args[:1] == ["is-active"]:
        state = (fixture / "fm_state.txt").read_text().strip()
        return replay("fm_state.txt", 0 if state == "active" else 3)
    elif tool == "dmesg":
        return replay("dmesg.txt")
    elif tool == "dcgmi":
        return replay("dcgmi_diag.json")
    elif tool == "all_reduce_perf":
        return replay("all_reduce_perf.txt")
    return 2, f"fakegpu: no recording for {tool} {' '.join(args)}\n"


if __name__ == "__main__":
    code, out = answer(Path(sys.argv[0]).name, sys.argv[1:], Path(os.environ["NEWINFRA_GPU_FIXTURE"]))
    sys.stdout.write(out)
    sys.exit(code)
