"""Accelerator names: what each source calls a chip, what we call it, and what users type.

One table per job so that adding a GPU is adding a line. The canonical names follow SkyPilot's
(common/accelerators.csv) where it has one, so our requests read like theirs.
"""

from __future__ import annotations

import re

# (cloud, name in the source) -> canonical name. Alibaba's A100 and V100 are split by memory below.
SOURCE_NAMES: dict[tuple[str, str], str] = {
    ("aws", "A100"): "A100",
    ("aws", "A100-80GB"): "A100-80GB",
    ("aws", "A10G"): "A10G",
    ("aws", "B200"): "B200",
    ("aws", "B300"): "B300",
    ("aws", "Gaudi HL-205"): "Gaudi HL-205",
    ("aws", "H100"): "H100",
    ("aws", "H200"): "H200",
    ("aws", "Inferentia"): "Inferentia",
    ("aws", "Inferentia2"): "Inferentia2",
    ("aws", "L4"): "L4",
    ("aws", "L40S"): "L40S",
    ("aws", "RTX PRO Server 6000"): "RTXPRO6000S",
    ("aws", "Radeon Pro V520"): "Radeon Pro V520",
    ("aws", "T4"): "T4",
    ("aws", "T4g"): "T4g",
    ("aws", "Trainium"): "Trainium",
    ("aws", "Trainium2"): "Trainium2",
    ("aws", "V100"): "V100",
    ("aws", "V100-32GB"): "V100-32GB",
    ("aws", "Virtex UltraScale (VU9P)"): "VU9P",
    ("aws", "Virtex UltraScale+ (VU47P)"): "VU47P",
    ("gcp", "A100"): "A100",
    ("gcp", "A100-80GB"): "A100-80GB",
    ("gcp", "B200"): "B200",
    ("gcp", "H100"): "H100",
    ("gcp", "H100-MEGA"): "H100",  # same GPU; the a3-megagpu host adds the faster network
    ("gcp", "H200"): "H200",
    ("gcp", "L4"): "L4",
    ("gcp", "P100"): "P100",
    ("gcp", "P4"): "P4",
    ("gcp", "T4"): "T4",
    ("gcp", "V100"): "V100",
    ("alicloud", "A10"): "A10",
    ("alicloud", "A100"): "A100",
    ("alicloud", "GA107"): "GA107",
    ("alicloud", "P100"): "P100",
    ("alicloud", "P4"): "P4",
    ("alicloud", "T4"): "T4",
    ("alicloud", "V100"): "V100",
}

# Same chip sold with more memory: (canonical, GiB per accelerator at least) -> the larger variant.
MEMORY_VARIANTS: dict[tuple[str, int], str] = {
    ("A100", 80): "A100-80GB",
    ("V100", 32): "V100-32GB",
}

# Spellings users type, beyond the canonical names and the clouds' own API names (which are derived).
USER_ALIASES: dict[str, tuple[str, ...]] = {
    "A100": ("a100-40gb", "a100-sxm4-40gb", "nvidia-tesla-a100", "a100-40g"),
    "A100-80GB": ("a100-80g", "a100-sxm4-80gb", "a100-80gb-sxm", "nvidia-a100-80gb"),
    "A10G": ("nvidia-a10g",),
    "B200": ("nvidia-b200", "b200-sxm"),
    "Gaudi HL-205": ("gaudi", "hl-205", "habana-gaudi"),
    "H100": ("h100-80gb", "h100-sxm", "h100-sxm5", "nvidia-h100-80gb", "h100-mega", "nvidia-h100-mega-80gb"),
    "H200": ("h200-141gb", "h200-sxm", "nvidia-h200-141gb"),
    "Inferentia": ("inf1", "inferentia1"),
    "Inferentia2": ("inf2",),
    "L4": ("nvidia-l4",),
    "L40S": ("nvidia-l40s", "l40s-48gb"),
    "P100": ("nvidia-tesla-p100", "tesla-p100"),
    "P4": ("nvidia-tesla-p4", "tesla-p4"),
    "RTXPRO6000S": ("rtx-pro-6000", "rtx-pro-server-6000", "rtx-pro-6000-server"),
    "Radeon Pro V520": ("v520", "amd-v520"),
    "T4": ("nvidia-tesla-t4", "tesla-t4"),
    "Trainium": ("trn1", "trainium1"),
    "Trainium2": ("trn2",),
    "V100": ("nvidia-tesla-v100", "tesla-v100", "v100-16gb"),
    "V100-32GB": ("v100-32g",),
    "tpu-v2": ("v2", "tpuv2"),
    "tpu-v3": ("v3", "tpuv3"),
    "tpu-v4": ("v4", "tpuv4"),
    "tpu-v5litepod": ("v5e", "tpu-v5e", "v5litepod", "v5lite", "tpu-v5-lite-podslice"),
    "tpu-v5p": ("v5p", "tpuv5p"),
    "tpu-v6e": ("v6e", "trillium", "tpu-v6e-slice"),
}

_NOISE = re.compile(r"[^a-z0-9]")
_VENDOR = ("nvidia", "tesla")


def alias_key(name: str) -> str:
    """Compare spellings without case, separators or the vendor prefix: 'NVIDIA-Tesla T4' -> 't4'."""
    key = _NOISE.sub("", name.lower())
    stripped = True
    while stripped:
        stripped = False
        for prefix in _VENDOR:
            if key.startswith(prefix) and len(key) > len(prefix):
                key, stripped = key[len(prefix):], True
    return key


def canonical(cloud: str, source_name: str, memory_gib: float | None) -> str | None:
    """Our name for a source's accelerator, or None when we do not know the chip."""
    name = SOURCE_NAMES.get((cloud, source_name))
    if name is None or memory_gib is None:
        return name
    for (base, min_gib), variant in MEMORY_VARIANTS.items():
        if name == base and memory_gib >= min_gib:
            return variant
    return name
