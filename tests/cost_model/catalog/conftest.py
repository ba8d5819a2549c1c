"""A tiny reference catalog, one row per oddity, in the reference files' layout (headers in another order
than ours on purpose: the build must read by name)."""


from __future__ import annotations

import csv
from pathlib import Path

import pytest

H100_INFO = ("{'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 81920}}], "
             "'TotalGpuMemoryInMiB': 655360}")
TRN2_INFO = "{'TotalNeuronDeviceMemoryInMiB': 8388608, 'Gpus': [{'Count': 16, 'Name': 'Trainium2', 'MemoryInfo': {'SizeInMiB': 524288}}]}"
T4_INFO = "{'Gpus': [{'Name': 'T4', 'Count': 1, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}"
L4_FRACTION = "{'Gpus': [{'Name': 'L4', 'Count': 0, 'MemoryInfo': {'SizeInMiB': 2861}}], 'TotalGpuMemoryInMiB': 2861}"
GCP_H100 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 81920}}]}"
GCP_T4 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]}"

AWS = [
    # Arch, AvailabilityZone, ... deliberately not in the reference order
    {"InstanceType": "p5.48xlarge", "AcceleratorName": "H100", "AcceleratorCount": "8.0", "vCPUs": "192.0",
     "MemoryGiB": "2048.0", "GpuInfo": H100_INFO, "Price": "98.32", "SpotPrice": "40.0", "Region": "us-east-1",
     "AvailabilityZone": "use1-az1", "Arch": "x86_64"},
    {"InstanceType": "p5.48xlarge", "AcceleratorName": "H100", "AcceleratorCount": "8.0", "vCPUs": "192.0",
     "MemoryGiB": "2048.0", "GpuInfo": H100_INFO, "Price": "98.32", "SpotPrice": "98.32", "Region": "us-east-1",
     "AvailabilityZone": "use1-az2", "Arch": "x86_64"},  # spot == on-demand: no spot data
    {"InstanceType": "p5.48xlarge", "AcceleratorName": "H100", "AcceleratorCount": "8.0", "vCPUs": "192.0",
     "MemoryGiB": "2048.0", "GpuInfo": H100_INFO, "Price": "98.32", "SpotPrice": "9.832", "Region": "us-east-1",
     "AvailabilityZone": "use1-az4", "Arch": "x86_64"},  # spot 10% of on-demand: implausible
    {"InstanceType": "p5e.48xlarge", "AcceleratorName": "H200", "AcceleratorCount": "8.0", "vCPUs": "192.0",
     "MemoryGiB": "2048.0", "GpuInfo": "", "Price": "", "SpotPrice": "19.4", "Region": "us-east-2",
     "AvailabilityZone": "use2-az1", "Arch": "x86_64"},  # no on-demand price
    {"InstanceType": "trn2.48xlarge", "AcceleratorName": "Trainium2", "AcceleratorCount": "16.0", "vCPUs": "192.0",
     "MemoryGiB": "2048.0", "GpuInfo": TRN2_INFO, "Price": "40.0", "SpotPrice": "", "Region": "us-east-2",
     "AvailabilityZone": "use2-az3", "Arch": "x86_64"},  # 512 GiB per chip: implausible memory
    {"InstanceType": "g6f.large", "AcceleratorName": "L4", "AcceleratorCount": "0.125", "vCPUs": "2.0",
     "MemoryGiB": "8.0", "GpuInfo": L4_FRACTION, "Price": "0.29", "SpotPrice": "0.17", "Region": "us-east-1",
     "AvailabilityZone": "use1-az1", "Arch": "x86_64"},  # a fraction of a GPU
    {"InstanceType": "g4dn.xlarge", "AcceleratorName": "T4", "AcceleratorCount": "1.0", "vCPUs": "4.0",
     "MemoryGiB": "16.0", "GpuInfo": T4_INFO, "Price": "0.526", "SpotPrice": "0.6", "Region": "us-east-1",
     "AvailabilityZone": "use1-az1", "Arch": "x86_64"},  # spot above on-demand
]

GCP = [
    {"InstanceType": "a3-highgpu-8g", "vCPUs": "208.0", "MemoryGiB": "1872.0", "AcceleratorName": "",
     "AcceleratorCount": "", "GpuInfo": "", "Region": "us-central1", "AvailabilityZone": "us-central1-a",
     "Price": "10.0", "SpotPrice": "4.0"},
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "H100", "AcceleratorCount": "8",
     "GpuInfo": GCP_H100, "Region": "us-central1", "AvailabilityZone": "us-central1-a", "Price": "33.6",
     "SpotPrice": "16.0"},
    {"InstanceType": "a4-highgpu-8g", "vCPUs": "224.0", "MemoryGiB": "3968.0", "AcceleratorName": "",
     "AcceleratorCount": "", "GpuInfo": "", "Region": "us-central1", "AvailabilityZone": "us-central1-b",
     "Price": "0.0", "SpotPrice": "0.0"},
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "B200", "AcceleratorCount": "8",
     "GpuInfo": GCP_H100, "Region": "us-central1", "AvailabilityZone": "us-central1-b", "Price": "80.0",
     "SpotPrice": "30.0"},
    # N1 hosts: n1-standard-8 (30 GiB) may take 1 × T4; n1-standard-64 (240 GiB, 64 vCPUs) may not.
    {"InstanceType": "n1-standard-8", "vCPUs": "8.0", "MemoryGiB": "30.0", "AcceleratorName": "",
     "AcceleratorCount": "", "GpuInfo": "", "Region": "us-central1", "AvailabilityZone": "us-central1-a",
     "Price": "0.38", "SpotPrice": "0.08"},
    {"InstanceType": "n1-standard-64", "vCPUs": "64.0", "MemoryGiB": "240.0", "AcceleratorName": "",
     "AcceleratorCount": "", "GpuInfo": "", "Region": "us-central1", "AvailabilityZone": "us-central1-a",
     "Price": "3.04", "SpotPrice": "0.64"},
    {"InstanceType": "e2-standard-8", "vCPUs": "8.0", "MemoryGiB": "32.0", "AcceleratorName": "",
     "AcceleratorCount": "", "GpuInfo": "", "Region": "us-central1", "AvailabilityZone": "us-central1-a",
     "Price": "0.27", "SpotPrice": "0.08"},
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "T4", "AcceleratorCount": "1",
     "GpuInfo": GCP_T4, "Region": "us-central1", "AvailabilityZone": "us-central1-a", "Price": "0.35",
     "SpotPrice": "0.1654"},
    # TPU slices: v5p names count TensorCores (v5p-16 = 8 chips), v6e names count chips.
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "tpu-v5p-16", "AcceleratorCount": "1",
     "GpuInfo": "tpu-v5p-16", "Region": "us-east5", "AvailabilityZone": "us-east5-a", "Price": "33.6",
     "SpotPrice": "12.8"},
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "tpu-v5p-16", "AcceleratorCount": "1",
     "GpuInfo": "tpu-v5p-16", "Region": "us-east5", "AvailabilityZone": "us-east5-a", "Price": "33.6",
     "SpotPrice": "12.8"},  # exact duplicate
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "tpu-v5p-24", "AcceleratorCount": "1",
     "GpuInfo": "tpu-v5p-24", "Region": "us-east5", "AvailabilityZone": "us-east5-a", "Price": "50.4",
     "SpotPrice": "19.2"},  # 12 chips: no standard topology
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "tpu-v6e-8", "AcceleratorCount": "1",
     "GpuInfo": "tpu-v6e-8", "Region": "us-central1", "AvailabilityZone": "us-central1-b", "Price": "21.6",
     "SpotPrice": "700.0"},  # placeholder spot
    {"InstanceType": "", "vCPUs": "", "MemoryGiB": "", "AcceleratorName": "tpu-v6e-16", "AcceleratorCount": "1",
     "GpuInfo": "tpu-v6e-16", "Region": "us-central2", "AvailabilityZone": "us-central2-b", "Price": "700.0",
     "SpotPrice": "700.0"},  # placeholder price
]

ALI_SOURCE = "price=cloudpilot-ai/karpenter-provider-alibabacloud@5d2e077:initial-on-demand-prices.json"
ALICLOUD = [
    {"InstanceType": "ecs.gn7i-c8g1.2xlarge", "AcceleratorName": "A10", "AcceleratorCount": "1", "vCPUs": "8",
     "MemoryGiB": "30", "GpuMemoryGiB": "24", "Price": "10.0", "SpotPrice": "", "Region": "cn-beijing",
     "AvailabilityZone": "", "Currency": "CNY", "Source": ALI_SOURCE, "AsOf": "2024-12-30"},
    {"InstanceType": "ecs.gn7e-c16g1.4xlarge", "AcceleratorName": "A100", "AcceleratorCount": "1", "vCPUs": "16",
     "MemoryGiB": "125", "GpuMemoryGiB": "80", "Price": "37.2", "SpotPrice": "", "Region": "cn-beijing",
     "AvailabilityZone": "", "Currency": "CNY", "Source": ALI_SOURCE, "AsOf": "2024-12-30"},
]
ALICLOUD_VGPU = [
    {"InstanceType": "ecs.sgn7i-vws-m2.xlarge", "AcceleratorName": "A10", "AcceleratorCount": "1", "vCPUs": "4",
     "MemoryGiB": "15.5", "GpuMemoryGiB": "2", "Price": "2.5", "SpotPrice": "", "Region": "cn-beijing",
     "AvailabilityZone": "", "Currency": "CNY", "Source": ALI_SOURCE, "AsOf": "2024-12-30"},
]
ALICLOUD_SPECS = [
    {"InstanceType": "ecs.gn8v.4xlarge", "AcceleratorName": "GPU H", "AcceleratorCount": "1", "vCPUs": "16",
     "MemoryGiB": "96", "GpuMemoryPerGpuGiB": "96", "GpuMemoryTotalGiB": "96", "DocCheck": "doc-match", "Source": "x"},
    {"InstanceType": "ecs.gn9g.4xlarge", "AcceleratorName": "L20N", "AcceleratorCount": "1", "vCPUs": "16",
     "MemoryGiB": "96", "GpuMemoryPerGpuGiB": "48", "GpuMemoryTotalGiB": "48", "DocCheck": "x", "Source": "x"},
    {"InstanceType": "ecs.gn7i-c8g1.2xlarge", "AcceleratorName": "A10", "AcceleratorCount": "1", "vCPUs": "8",
     "MemoryGiB": "30", "GpuMemoryPerGpuGiB": "24", "GpuMemoryTotalGiB": "24", "DocCheck": "x", "Source": "x"},
]
ACCELERATORS = [{"AcceleratorName": n, "Clouds": "['AWS']"} for n in ("A100-80GB", "H100", "H100-MEGA", "T4", "L4")]


def _write(path: Path, rows: list[dict[str, str]], reverse: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = list(rows[0])[::-1] if reverse else list(rows[0])
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def write_source(root: Path) -> Path:
    _write(root / "aws/vms.csv", AWS, reverse=True)
    _write(root / "gcp/vms.csv", GCP, reverse=True)
    _write(root / "alicloud/vms.csv", ALICLOUD)
    _write(root / "alicloud/vgpu_vms.csv", ALICLOUD_VGPU)
    _write(root / "alicloud/gpu_specs.csv", ALICLOUD_SPECS)
    _write(root / "common/accelerators.csv", ACCELERATORS)
    return root


@pytest.fixture(scope="module")
def reference_source(tmp_path_factory) -> Path:
    """The tiny reference catalog written to a fresh folder."""
    return write_source(tmp_path_factory.mktemp("reference"))
