"""D8: shared training file systems (FSx for Lustre, Filestore, NAS) encrypted with a customer key."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get
from newinfra.policies.rules.data_security.tables import table_rule

FSX_LUSTRE = "aws:fsx/lustreFileSystem:LustreFileSystem"
FILESTORE = "gcp:filestore/instance:Instance"
NAS = "alicloud:nas/fileSystem:FileSystem"
NAS_CUSTOMER_KEY = 2  # encryptType: 0 none, 1 NAS-managed key, 2 customer KMS key


def _fsx(p: Any, _c) -> list[str]:
    return [] if get(p, "kmsKeyId") else ["kmsKeyId is not set (AWS-managed key)"]


def _filestore(p: Any, _c) -> list[str]:
    return [] if get(p, "kmsKeyName") else ["kmsKeyName is not set (Google-managed key)"]


def _nas(p: Any, _c) -> list[str]:
    if get(p, "encryptType") != NAS_CUSTOMER_KEY or not get(p, "kmsKeyId"):
        return [f"encryptType is {get(p, 'encryptType', 0)!r}, not 2 with a kmsKeyId"]
    return []


file_system_encryption = table_rule(
    "file-system-encryption",
    "D8: shared training file systems are encrypted with a customer-managed key. Fix: FSx for Lustre: "
    "kmsKeyId; Filestore: kmsKeyName; NAS: encryptType 2 with kmsKeyId.",
    {FSX_LUSTRE: _fsx, FILESTORE: _filestore, NAS: _nas},
)

POLICIES = [file_system_encryption]
