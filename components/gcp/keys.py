"""Customer-managed Cloud KMS keys: one key ring per purpose and location, keys that rotate."""

import re

import pulumi
import pulumi_gcp as gcp

from newinfra.errors import ComponentInputError

DEFAULT_ROTATION = "7776000s"  # 90 days
MIN_ROTATION_S = 86400  # Cloud KMS refuses rotation periods under a day
ROTATION = re.compile(r"(\d+)s")


def check_rotation(rotation: str, key: str = "rotation_period") -> str:
    match = ROTATION.fullmatch(rotation)
    if not match or int(match.group(1)) < MIN_ROTATION_S:
        raise ComponentInputError(key, f"{rotation!r} must be seconds like '7776000s', at least {MIN_ROTATION_S}s")
    return rotation


def rotating_key(name: str, location: str, labels: dict[str, str], parent: pulumi.Resource,
                 rotation: str = DEFAULT_ROTATION) -> gcp.kms.CryptoKey:
    """A key ring in ``location`` (it must match the resources it encrypts) holding one rotating key."""
    child = pulumi.ResourceOptions(parent=parent)
    ring = gcp.kms.KeyRing(f"{name}-keyring", location=location, opts=child)
    return gcp.kms.CryptoKey(f"{name}-key", key_ring=ring.id, purpose="ENCRYPT_DECRYPT", rotation_period=rotation,
                             labels=labels, opts=child)
