"""Instance family facts, one table: interconnect, drivers, images and quota classes.

Plain data so that components (node pools, AMIs), the Ansible inventory (driver branch, Fabric
Manager, EFA) and the policy packs can import it without the catalog. Keyed by (cloud, family)
where the family is ``Offer.family`` (p5, a3-highgpu, gn7e; TPUs: tpu-v5p).

Sources: AWS "Accelerated computing instances" and "EFA supported instance types" pages and the
Service Quotas console codes; GCP "GPU machine types"; Alibaba "GPU-accelerated compute-optimized
instance families"; NVIDIA driver release notes (R580 is the last branch for Pascal and Volta; the
open kernel modules support Turing and newer and are the only ones for Blackwell).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Architecture:
    vendor: str  # nvidia | aws-neuron | habana | amd | xilinx | google
    driver_branch: str | None  # recommended NVIDIA branch; other vendors: their driver/runtime name
    # NVIDIA open GPU kernel modules: required (Blackwell), recommended (Turing..Hopper), unsupported
    open_kernel_modules: str | None


ARCHITECTURES: dict[str, Architecture] = {
    "Pascal": Architecture("nvidia", "580", "unsupported"),
    "Volta": Architecture("nvidia", "580", "unsupported"),
    "Turing": Architecture("nvidia", "580", "recommended"),
    "Ampere": Architecture("nvidia", "580", "recommended"),
    "Ada": Architecture("nvidia", "580", "recommended"),
    "Hopper": Architecture("nvidia", "580", "recommended"),
    "Blackwell": Architecture("nvidia", "580", "required"),
    "Neuron": Architecture("aws-neuron", "aws-neuronx-dkms", None),
    "Gaudi": Architecture("habana", "habanalabs", None),
    "RDNA": Architecture("amd", "amdgpu", None),
    "FPGA": Architecture("xilinx", "aws-fpga", None),
    "TPU": Architecture("google", "libtpu", None),
}

# Accelerator (canonical name) -> architecture.
ACCELERATOR_ARCHITECTURE: dict[str, str] = {
    "P4": "Pascal", "P100": "Pascal",
    "V100": "Volta", "V100-32GB": "Volta",
    "T4": "Turing", "T4g": "Turing",
    "A10": "Ampere", "A10G": "Ampere", "A100": "Ampere", "A100-80GB": "Ampere", "GA107": "Ampere",
    "L4": "Ada", "L40S": "Ada",
    "H100": "Hopper", "H200": "Hopper",
    "B200": "Blackwell", "B300": "Blackwell", "RTXPRO6000S": "Blackwell",
    "Inferentia": "Neuron", "Inferentia2": "Neuron", "Trainium": "Neuron", "Trainium2": "Neuron",
    "Gaudi HL-205": "Gaudi", "Radeon Pro V520": "RDNA", "VU9P": "FPGA", "VU47P": "FPGA",
    "tpu-v2": "TPU", "tpu-v3": "TPU", "tpu-v4": "TPU", "tpu-v5litepod": "TPU", "tpu-v5p": "TPU",
    "tpu-v6e": "TPU",
}

NVIDIA_X86 = "AL2023_x86_64_NVIDIA"
NVIDIA_ARM = "AL2023_ARM_64_NVIDIA"
NEURON = "AL2023_x86_64_NEURON"


@dataclass(frozen=True)
class Family:
    accelerator: str | None  # None where the host takes several (GCP n1)
    nvlink: bool = False  # NVLink between the node's GPUs (multi-GPU sizes)
    nvswitch: bool = False  # NVSwitch board: nvidia-fabricmanager must run on full-board sizes
    efa_interfaces: dict[str, int] = field(default_factory=dict)  # instance type -> EFA interfaces
    efa_other_sizes: bool = False  # EFA also on sizes whose interface count is not listed here
    eks_ami_type: str | None = None  # EKS managed node group amiType; None: no accelerated EKS AMI
    aws_quota_class: str | None = None  # P, G (G and VT), Inf, Trn, DL, F
    sales_ticket: bool = False  # Alibaba: sold only after a sales ticket

    @property
    def architecture(self) -> str | None:
        return ACCELERATOR_ARCHITECTURE.get(self.accelerator) if self.accelerator else None

    @property
    def driver(self) -> Architecture | None:
        arch = self.architecture
        return ARCHITECTURES[arch] if arch else None

    def efa(self, instance_type: str) -> bool:
        return instance_type in self.efa_interfaces or self.efa_other_sizes

    def fabric_manager(self, gpus_per_node: int) -> bool:
        """Fabric Manager is needed when the VM owns the whole NVSwitch board (8 or 16 GPUs)."""
        return self.nvswitch and gpus_per_node >= 8


def _sizes(family: str, sizes: str, count: int = 1) -> dict[str, int]:
    return {f"{family}.{s}": count for s in sizes.split()}


FAMILIES: dict[tuple[str, str], Family] = {
    # --- AWS -----------------------------------------------------------------------------------
    ("aws", "dl1"): Family("Gaudi HL-205", efa_interfaces={"dl1.24xlarge": 4}, aws_quota_class="DL"),
    ("aws", "f1"): Family("VU9P", aws_quota_class="F"),
    ("aws", "f2"): Family("VU47P", aws_quota_class="F"),
    ("aws", "g4ad"): Family("Radeon Pro V520", aws_quota_class="G"),
    ("aws", "g4dn"): Family("T4", efa_interfaces=_sizes("g4dn", "8xlarge 12xlarge 16xlarge metal"),
                            eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "g5"): Family("A10G", efa_interfaces=_sizes("g5", "8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
                          eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "g5g"): Family("T4g", eks_ami_type=NVIDIA_ARM, aws_quota_class="G"),
    ("aws", "g6"): Family("L4", efa_interfaces=_sizes("g6", "8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
                          eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "g6e"): Family("L40S", efa_interfaces={**_sizes("g6e", "8xlarge 12xlarge 16xlarge"),
                                                   "g6e.24xlarge": 2, "g6e.48xlarge": 4},
                           eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "g6f"): Family("L4", eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "g7e"): Family("RTXPRO6000S", eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "gr6"): Family("L4", eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "gr6f"): Family("L4", eks_ami_type=NVIDIA_X86, aws_quota_class="G"),
    ("aws", "inf1"): Family("Inferentia", eks_ami_type=NEURON, aws_quota_class="Inf"),
    ("aws", "inf2"): Family("Inferentia2", eks_ami_type=NEURON, aws_quota_class="Inf"),
    ("aws", "p3"): Family("V100", nvlink=True, eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p3dn"): Family("V100-32GB", nvlink=True, efa_interfaces={"p3dn.24xlarge": 1},
                            eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p4d"): Family("A100", nvlink=True, nvswitch=True, efa_interfaces={"p4d.24xlarge": 4},
                           eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p4de"): Family("A100-80GB", nvlink=True, nvswitch=True, efa_interfaces={"p4de.24xlarge": 4},
                            eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p5"): Family("H100", nvlink=True, nvswitch=True, efa_interfaces={"p5.48xlarge": 32},
                          eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p5e"): Family("H200", nvlink=True, nvswitch=True, efa_interfaces={"p5e.48xlarge": 32},
                           eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p5en"): Family("H200", nvlink=True, nvswitch=True, efa_interfaces={"p5en.48xlarge": 16},
                            eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p6-b200"): Family("B200", nvlink=True, nvswitch=True, efa_interfaces={"p6-b200.48xlarge": 8},
                               eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "p6-b300"): Family("B300", nvlink=True, nvswitch=True, efa_other_sizes=True,
                               eks_ami_type=NVIDIA_X86, aws_quota_class="P"),
    ("aws", "trn1"): Family("Trainium", efa_interfaces={"trn1.32xlarge": 8}, eks_ami_type=NEURON,
                            aws_quota_class="Trn"),
    ("aws", "trn1n"): Family("Trainium", efa_interfaces={"trn1n.32xlarge": 16}, eks_ami_type=NEURON,
                             aws_quota_class="Trn"),
    ("aws", "trn2"): Family("Trainium2", efa_interfaces={"trn2.48xlarge": 16}, eks_ami_type=NEURON,
                            aws_quota_class="Trn"),
    # --- GCP -----------------------------------------------------------------------------------
    ("gcp", "a2-highgpu"): Family("A100", nvlink=True, nvswitch=True),
    ("gcp", "a2-megagpu"): Family("A100", nvlink=True, nvswitch=True),
    ("gcp", "a2-ultragpu"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("gcp", "a3-highgpu"): Family("H100", nvlink=True, nvswitch=True),
    ("gcp", "a3-megagpu"): Family("H100", nvlink=True, nvswitch=True),
    ("gcp", "a3-ultragpu"): Family("H200", nvlink=True, nvswitch=True),
    ("gcp", "a4-highgpu"): Family("B200", nvlink=True, nvswitch=True),
    ("gcp", "g2-standard"): Family("L4"),
    ("gcp", "n1-highcpu"): Family(None),
    ("gcp", "n1-highmem"): Family(None),
    ("gcp", "n1-standard"): Family(None),
    **{("gcp", f"tpu-{g}"): Family(f"tpu-{g}") for g in ("v2", "v3", "v4", "v5litepod", "v5p", "v6e")},
    # --- Alibaba Cloud -------------------------------------------------------------------------
    ("alicloud", "ebmgn6e"): Family("V100-32GB", nvlink=True),
    ("alicloud", "ebmgn6i"): Family("T4"),
    ("alicloud", "ebmgn6ia"): Family("T4"),
    ("alicloud", "ebmgn6v"): Family("V100", nvlink=True),
    ("alicloud", "ebmgn7"): Family("A100", nvlink=True, nvswitch=True),
    ("alicloud", "ebmgn7e"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("alicloud", "ebmgn7ex"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("alicloud", "ebmgn7i"): Family("A10"),
    ("alicloud", "ebmgn7ix"): Family("A10"),
    ("alicloud", "ebmgn8v"): Family(None, nvlink=True, nvswitch=True, sales_ticket=True),
    ("alicloud", "gn5"): Family("P100"),
    ("alicloud", "gn5i"): Family("P4"),
    ("alicloud", "gn6e"): Family("V100-32GB", nvlink=True),
    ("alicloud", "gn6i"): Family("T4"),
    ("alicloud", "gn6v"): Family("V100", nvlink=True),
    ("alicloud", "gn7"): Family("A100", nvlink=True, nvswitch=True),
    ("alicloud", "gn7e"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("alicloud", "gn7i"): Family("A10"),
    ("alicloud", "gn7r"): Family("GA107"),
    ("alicloud", "gn7s"): Family(None, sales_ticket=True),
    ("alicloud", "gn8is"): Family(None, sales_ticket=True),
    ("alicloud", "gn8v"): Family(None, nvlink=True, nvswitch=True, sales_ticket=True),
}

SALES_TICKET_FAMILIES: frozenset[str] = frozenset(f for (c, f), v in FAMILIES.items() if v.sales_ticket)


def family_facts(cloud: str, family: str) -> Family | None:
    return FAMILIES.get((cloud, family))
