#!/usr/bin/env bash
# Real-hardware proof for gpu_validate, on a lent GPU machine (never in CI): install ansible-core and
# nvidia-ml-py from PyPI into a throw-away venv, run ansible/playbooks/validate.yml against localhost twice
# (facts through NVML, then through nvidia-smi), and save both JSON reports plus the raw nvidia-smi outputs
# (the same commands the fixtures under tests/ansible/fixtures/gpu_validate record) under
# benchmarks/gpu_validate/ (and $OUT when the device runner sets it).
#
#   EXPECTED_GPUS=1 DRIVER_BRANCH=580 INSTANCE_TYPE="" benchmarks/gpu_validate_device.sh
# DRIVER_BRANCH defaults to the loaded driver's branch: this run proves the parsers read a real driver,
# not the pin. The play does not fail on an unhealthy node here; the reports say which checks failed.
set -euo pipefail
cd "$(dirname "$0")/.."
RESULTS=benchmarks/gpu_validate
VENV=${VENV:-/tmp/newinfra-gpu-validate-venv}
mkdir -p "$RESULTS/recording"

python3 -m venv "$VENV"
"$VENV/bin/pip" install -q 'ansible-core>=2.19,<2.20' 'nvidia-ml-py>=13,<14'

loaded=$(sed -n 's/.*Kernel Module[^0-9]*\([0-9]\+\)\..*/\1/p' /proc/driver/nvidia/version 2>/dev/null | head -1)
DRIVER_BRANCH=${DRIVER_BRANCH:-${loaded:-580}}
EXPECTED_GPUS=${EXPECTED_GPUS:-1}
INSTANCE_TYPE=${INSTANCE_TYPE:-}
host=$(hostname -s)

# Raw recordings, one file per command the module runs.
fields=$("$VENV/bin/python" -c '
import importlib.util
spec = importlib.util.spec_from_file_location("h", "ansible/roles/gpu_validate/module_utils/gpu_health.py")
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
print(",".join(module.QUERY_GPU_FIELDS))')
{ nvidia-smi --query-gpu="$fields" --format=csv,noheader,nounits > "$RESULTS/recording/query_gpu.csv"; } 2>&1 || true
nvidia-smi --query-remapped-rows=gpu_bus_id,remapped_rows.pending,remapped_rows.failure,remapped_rows.uncorrectable \
  --format=csv,noheader > "$RESULTS/recording/remapped_rows.csv" 2>&1 || true
nvidia-smi nvlink --status > "$RESULTS/recording/nvlink_status.txt" 2>&1 || true
nvidia-smi -q > "$RESULTS/recording/nvidia_smi_q.txt" 2>&1 || true
cp /proc/driver/nvidia/version "$RESULTS/recording/proc_version.txt" 2>/dev/null || true

for prefer in nvml nvidia-smi; do
  cat > /tmp/newinfra-gpu-validate-inventory.json <<JSON
{"all": {"children": {"gpu": {"hosts": {"$host": {
  "ansible_connection": "local", "ansible_python_interpreter": "$VENV/bin/python", "ansible_become": false,
  "expected_accelerators": $EXPECTED_GPUS, "nvidia_driver_branch": "$DRIVER_BRANCH",
  "instance_type": "$INSTANCE_TYPE", "gpu_validate_prefer": "$prefer", "gpu_validate_fail_unhealthy": false,
  "gpu_validate_report_dir": "$PWD/$RESULTS/$prefer"}}}}}}
JSON
  (cd ansible && ANSIBLE_CONFIG=ansible.cfg "$VENV/bin/ansible-playbook" \
      -i /tmp/newinfra-gpu-validate-inventory.json playbooks/validate.yml) | tee "$RESULTS/$prefer-play.log"
done

for prefer in nvml nvidia-smi; do
  "$VENV/bin/python" - "$RESULTS/$prefer/$host.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(sys.argv[1], "source:", report["facts"]["source"], "healthy:", report["healthy"], "failed:", report["failed"])
for check in report["checks"]:
    print(f"  {check['name']:18} {check['status']:5} {check['message']}")
PY
done
if [ -n "${OUT:-}" ]; then cp -r "$RESULTS" "$OUT/"; fi
