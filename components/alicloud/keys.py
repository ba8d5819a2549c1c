"""Customer-managed KMS keys on Alibaba Cloud that rotate automatically and cannot be deleted by accident."""

import re

import pulumi
import pulumi_alicloud as alicloud

from newinfra.errors import ComponentInputError

DEFAULT_ROTATION = "7776000s"  # 90 days
ROTATION = re.compile(r"(\d+)s")
# KMS accepts automatic rotation intervals from 7 to 365 days.
ROTATION_BOUNDS_S = (7 * 86400, 365 * 86400)


def check_rotation(rotation: str, key: str = "rotation_interval") -> str:
    match = ROTATION.fullmatch(rotation)
    if not match or not ROTATION_BOUNDS_S[0] <= int(match.group(1)) <= ROTATION_BOUNDS_S[1]:
        raise ComponentInputError(key, f"{rotation!r} must be seconds like '7776000s', between "
                                f"{ROTATION_BOUNDS_S[0]}s (7 days) and {ROTATION_BOUNDS_S[1]}s (365 days)")
    return rotation


def rotating_key(name: str, description: str, tags: dict[str, str], parent: pulumi.Resource,
                 rotation: str = DEFAULT_ROTATION) -> alicloud.kms.Key:
    return alicloud.kms.Key(
        f"{name}-key", description=description, key_spec="Aliyun_AES_256", key_usage="ENCRYPT/DECRYPT",
        protection_level="SOFTWARE", automatic_rotation="Enabled", rotation_interval=rotation,
        pending_window_in_days=30, deletion_protection="Enabled", tags=tags,
        opts=pulumi.ResourceOptions(parent=parent))
