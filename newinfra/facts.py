"""Hardware facts, one place: the family rule per cloud, interconnect, drivers, images, quota classes, TPU
generations and topologies, and where each type can run.

Plain data and pure functions, importing nothing of the project, so that the components (node pools, VM pools,
TPU slices, AMIs), the cost model (catalog build, loader, quotas, candidates), the Ansible inventory (driver
branch, Fabric Manager, EFA) and the policy packs derive from it without the catalog. Keyed by (cloud, family)
where the family is ``family_of(cloud, instance_type)`` (p5, a3-highgpu, gn7e; TPUs: tpu-v5p), which is also
``Offer.family``.

Sources: AWS "Accelerated computing instances" and "EFA supported instance types" pages and the
Service Quotas console codes; GCP "GPU machine types"; Alibaba "GPU-accelerated compute-optimized
instance families"; NVIDIA driver release notes (R580 is the last branch for Pascal and Volta; the
open kernel modules support Turing and newer and are the only ones for Blackwell).
"""

from __future__ import annotations

import itertools
import re
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
    "A30": "Ampere",
    "L4": "Ada", "L40S": "Ada", "L20": "Ada",
    "H100": "Hopper", "H200": "Hopper", "H20": "Hopper",
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
    # --- Alibaba Cloud -------------------------------------------------------------------------
    # Whole-GPU ECS families only (gn*: virtualised, ebmgn*: bare metal); vgn*/sgn* are vGPU slices, not node-pool
    # material. Sales-ticket families are sold only after a ticket (treated as unavailable unless allowed).
    ("alicloud", "ebmgn6e"): Family("V100-32GB", nvlink=True),
    ("alicloud", "ebmgn6i"): Family("T4"),
    ("alicloud", "ebmgn6ia"): Family("T4"),
    ("alicloud", "ebmgn6v"): Family("V100", nvlink=True),
    ("alicloud", "ebmgn7"): Family("A100", nvlink=True, nvswitch=True),
    ("alicloud", "ebmgn7e"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("alicloud", "ebmgn7ex"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("alicloud", "ebmgn7i"): Family("A10"),
    ("alicloud", "ebmgn7ix"): Family("A10"),
    ("alicloud", "ebmgn8is"): Family("L20"),
    ("alicloud", "ebmgn8v"): Family("H20", nvlink=True, nvswitch=True, sales_ticket=True),
    ("alicloud", "gn5"): Family("P100"),
    ("alicloud", "gn5i"): Family("P4"),
    ("alicloud", "gn6e"): Family("V100-32GB", nvlink=True),
    ("alicloud", "gn6i"): Family("T4"),
    ("alicloud", "gn6v"): Family("V100", nvlink=True),
    ("alicloud", "gn7"): Family("A100", nvlink=True, nvswitch=True),
    ("alicloud", "gn7e"): Family("A100-80GB", nvlink=True, nvswitch=True),
    ("alicloud", "gn7i"): Family("A10"),
    ("alicloud", "gn7r"): Family("GA107"),
    ("alicloud", "gn7s"): Family("A30", sales_ticket=True),
    ("alicloud", "gn8is"): Family("L20", sales_ticket=True),
    ("alicloud", "gn8v"): Family("H20", nvlink=True, nvswitch=True, sales_ticket=True),
}

# Alibaba families sold only after a sales ticket (no list price; unavailable unless the user allows them).
SALES_TICKET_FAMILIES: frozenset[str] = frozenset(f for (c, f), v in FAMILIES.items() if v.sales_ticket)


def family_facts(cloud: str, family: str) -> Family | None:
    return FAMILIES.get((cloud, family))


class FamilyNameError(ValueError):
    """An instance type name the cloud's naming rule cannot split into a family."""


CLOUDS = ("alicloud", "aws", "gcp")
# GCP TPU accelerator types: <generation>-<size> (v5litepod-8, v5p-16, v3-32); the family is tpu-<generation>.
TPU_TYPE = re.compile(r"^(v[0-9]+[a-z]*)-([0-9]+)$")
# A TPU accelerator named with its slice, as the cost model's requests and the catalog name it.
TPU_SLICE = re.compile(r"^tpu-(v[0-9]+[a-z]*)-([0-9]+)$")
_NAME_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    # p5.48xlarge -> p5; p6-b200.48xlarge -> p6-b200
    "aws": (re.compile(r"^([a-z0-9-]+)\.[a-z0-9-]+$"), "an EC2 instance type (<family>.<size>, e.g. p5.48xlarge)"),
    # a3-highgpu-8g -> a3-highgpu; n1-standard-8 -> n1-standard
    "gcp": (re.compile(r"^([a-z][a-z0-9]*-[a-z0-9-]+?)-[a-z0-9]+$"),
            "a GCE machine type (<series>-<kind>-<size>, e.g. a3-highgpu-8g) or a TPU type (<generation>-<size>, "
            "e.g. v5p-8)"),
    # ecs.gn7i-c8g1.2xlarge -> gn7i; ecs.ebmgn7e.32xlarge -> ebmgn7e
    # (a spec may hold a dot: ecs.ebmgn9ge-1.5t.64xlarge -> ebmgn9ge)
    "alicloud": (re.compile(r"^ecs\.([a-z0-9]+)[-.][a-z0-9][a-z0-9.-]*$"),
                 "an ECS instance type (ecs.<family>[-<spec>].<size>, e.g. ecs.gn7i-c8g1.2xlarge)"),
}


def family_of(cloud: str, instance_type: str) -> str:
    """The family key of FAMILIES for an instance type, by the cloud's naming rule (one rule per cloud).

    TPU types (v5litepod-8) belong to the family of their generation (tpu-v5litepod)."""
    if cloud not in _NAME_RULES:
        raise FamilyNameError(f"cloud: {cloud!r} is not valid; valid: {list(CLOUDS)}")
    name = instance_type if isinstance(instance_type, str) else ""
    if cloud == "gcp" and (tpu := TPU_TYPE.match(name)):
        return f"tpu-{tpu.group(1)}"
    pattern, shape = _NAME_RULES[cloud]
    match = pattern.match(name)
    if not match:
        raise FamilyNameError(f"instance_type: {instance_type!r} is not {shape}")
    return match.group(1)


def instance_facts(cloud: str, instance_type: str) -> Family | None:
    """The family facts of an instance type; None when the name parses but the family is not in the table."""
    return family_facts(cloud, family_of(cloud, instance_type))


def efa_interfaces(cloud: str, instance_type: str) -> int:
    """EFA interfaces a host of this type gets: the listed count, one on EFA sizes whose count is not listed
    (p6-b300), 0 without EFA. Both the EKS node groups and the VM pools read this one answer."""
    if cloud != "aws":
        return 0
    facts = instance_facts(cloud, instance_type)
    if facts is None:
        return 0
    return facts.efa_interfaces.get(instance_type, 1 if facts.efa_other_sizes else 0)


# Where a workload runs (Placement.runs_on): Kubernetes node pools, or VM pools / TPU VMs outside Kubernetes.
RUNS_ON = ("kubernetes", "vm")
# Vendors whose hosts have a node image and Ansible roles (GPU node pools and VM pools).
POOL_VENDORS = ("aws-neuron", "nvidia")


def runs_on(cloud: str, instance_type: str) -> tuple[str, ...]:
    """Where the components can run this type: ("kubernetes", "vm"), one of them, or () when no planner takes
    it (no accelerated node image, a vendor without roles, a family sold only after a sales ticket, or a family
    the table does not know). The cost model places a workload only on types that run where it asks to."""
    try:
        family = family_of(cloud, instance_type)
    except FamilyNameError:
        return ()
    facts = family_facts(cloud, family)
    if facts is None or facts.sales_ticket:
        return ()
    if (generation := TPU_GENERATIONS.get(family.removeprefix("tpu-"))) and family.startswith("tpu-"):
        return RUNS_ON if generation.gke_multi_host_machine else ("vm",)
    driver = facts.driver
    if driver is not None and driver.vendor not in POOL_VENDORS:
        return ()
    if cloud == "aws" and facts.eks_ami_type is None:
        return ()
    return RUNS_ON


def cloud_accelerators(cloud: str) -> list[str]:
    """Accelerators the cloud's known families carry, sorted."""
    return sorted({f.accelerator for (c, _), f in FAMILIES.items() if c == cloud and f.accelerator})


# --- TPU generations --------------------------------------------------------------------------------
# GCP "TPU versions" pages (cloud.google.com/tpu/docs/v2 ... /v6e) and "TPUs in GKE". Slice names count
# TensorCores (2 per chip) for v2, v3, v4 and v5p, chips for v5e (v5litepod) and v6e. Every generation runs as
# TPU VMs; GKE has TPU node pools from v3 on (ct3-hightpu-4t: one v3-8 host, ct3p-hightpu-4t: v3 slices), none
# for v2.

@dataclass(frozen=True)
class TpuGeneration:
    name: str  # the prefix of accelerator types: v3, v5litepod, v5p, v6e
    cores_per_chip_in_name: int  # 1: the name counts chips; 2: it counts TensorCores
    hbm_gib: int  # HBM per chip
    dims: int  # 2D torus (v2, v3, v5e, v6e) or 3D (v4, v5p)
    max_chips: int
    # chips -> the documented standard topology (what GCP provisions for the bare type name)
    standard_topologies: dict[int, str]
    runtime_version: str  # the TPU VM software version for this generation
    chips_per_host: int  # on multi-host slices
    single_host_chips: tuple[int, ...]  # slice sizes that fit one host
    secure_boot: bool  # shieldedInstanceConfig.enableSecureBoot accepted
    api_type: str  # TPU API acceleratorConfig.type
    data_disk_type: str  # the persistent disk type its hosts attach (v5e and later: Hyperdisk only)
    # GKE: chips -> machine type of single-host slices, and the machine type of multi-host slices; None
    # where GKE has no node pools for the generation (v2).
    gke_single_host_machines: dict[int, str] = field(default_factory=dict)
    gke_multi_host_machine: str | None = None

    @property
    def family(self) -> str:
        return f"tpu-{self.name}"


_TOPOLOGIES_2D = {1: "1x1", 4: "2x2", 8: "2x4", 16: "4x4", 32: "4x8", 64: "8x8", 128: "8x16", 256: "16x16"}
_TOPOLOGIES_3D = {4: "2x2x1", 8: "2x2x2", 16: "2x2x4", 32: "2x4x4", 64: "4x4x4", 128: "4x4x8", 256: "4x8x8",
                  512: "8x8x8", 1024: "8x8x16", 2048: "8x16x16", 4096: "16x16x16"}

TPU_GENERATIONS: dict[str, TpuGeneration] = {
    g.name: g
    for g in (
        TpuGeneration("v2", 2, 16, 2, 256, {4: "2x2", 16: "4x4", 64: "8x8", 128: "8x16", 256: "16x16"},
                      "tpu-ubuntu2204-base", 4, (4,), False, "V2", "pd-balanced"),
        TpuGeneration("v3", 2, 32, 2, 1024,
                      {4: "2x2", 16: "4x4", 32: "4x8", 64: "8x8", 128: "8x16", 256: "16x16", 512: "16x32",
                       1024: "32x32"},
                      "tpu-ubuntu2204-base", 4, (4,), False, "V3", "pd-balanced",
                      {4: "ct3-hightpu-4t"}, "ct3p-hightpu-4t"),
        TpuGeneration("v4", 2, 32, 3, 4096, _TOPOLOGIES_3D, "tpu-ubuntu2204-base", 4, (4,), True, "V4",
                      "pd-balanced", {4: "ct4p-hightpu-4t"}, "ct4p-hightpu-4t"),
        TpuGeneration("v5litepod", 1, 16, 2, 256, _TOPOLOGIES_2D, "v2-alpha-tpuv5-lite", 4, (1, 4, 8), True,
                      "V5LITE_POD", "hyperdisk-balanced",
                      {1: "ct5lp-hightpu-1t", 4: "ct5lp-hightpu-4t", 8: "ct5lp-hightpu-8t"}, "ct5lp-hightpu-4t"),
        TpuGeneration("v5p", 2, 95, 3, 8960, _TOPOLOGIES_3D, "v2-alpha-tpuv5", 4, (4,), True, "V5P",
                      "hyperdisk-balanced", {4: "ct5p-hightpu-4t"}, "ct5p-hightpu-4t"),
        TpuGeneration("v6e", 1, 32, 2, 256, _TOPOLOGIES_2D, "v2-alpha-tpuv6e", 4, (1, 4, 8), True,
                      "V6E", "hyperdisk-balanced",
                      {1: "ct6e-standard-1t", 4: "ct6e-standard-4t", 8: "ct6e-standard-8t"}, "ct6e-standard-4t"),
    )
}


# Every TPU generation is a GCP family (tpu-v5p), so the family table and the generations cannot disagree.
FAMILIES.update({("gcp", g.family): Family(g.family) for g in TPU_GENERATIONS.values()})


def tpu_generation(name: str) -> TpuGeneration | None:
    """The generation of a TPU accelerator or type name: v5p, tpu-v5p, v5p-8, tpu-v5p-8."""
    body = name.removeprefix("tpu-") if isinstance(name, str) else ""
    match = TPU_TYPE.match(body)
    return TPU_GENERATIONS.get(match.group(1) if match else body)


def tpu_topologies(generation: TpuGeneration, chips: int) -> list[str]:
    """Every topology GCP provisions for this many chips of a generation, the standard one first (empty: no
    such slice). 3D slices of whole 4x4x4 cubes may take any A x B x C of multiples of 4."""
    if chips < 1 or chips > generation.max_chips:
        return []
    standard = generation.standard_topologies.get(chips)
    if generation.dims == 2 or chips % 64:
        return [standard] if standard else []
    quads = chips // 64
    shapes = {
        tuple(sorted((4 * a, 4 * b, 4 * c)))
        for a, b in itertools.product(range(1, quads + 1), repeat=2)
        if quads % (a * b) == 0
        for c in (quads // (a * b),)
    }
    ordered = ["x".join(map(str, s)) for s in sorted(shapes, key=lambda s: (max(s), s))]
    return [standard, *(t for t in ordered if t != standard)] if standard else ordered
