"""Managed databases (RDS and Aurora, Redshift, Cloud SQL, ApsaraDB RDS): encrypted with a customer key, never
reachable from the internet, automated backups on."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, truthy
from newinfra.policies.rules.data_security.exposure import open_to_internet
from newinfra.policies.rules.data_security.tables import table_rule

RDS = "aws:rds/instance:Instance"
AURORA = "aws:rds/cluster:Cluster"
AURORA_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
REDSHIFT = "aws:redshift/cluster:Cluster"
CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
APSARA = "alicloud:rds/instance:Instance"
APSARA_BACKUP = "alicloud:rds/backupPolicy:BackupPolicy"


def _aws_key(encrypted_key: str):
    def check(p: Any, _c) -> list[str]:
        if not truthy(get(p, encrypted_key)):
            return [f"{encrypted_key} is not true (data at rest unencrypted)"]
        return [] if get(p, "kmsKeyId") else [f"{encrypted_key} without kmsKeyId (AWS-managed key)"]
    return check


def _cloud_sql_key(p: Any, _c) -> list[str]:
    return [] if get(p, "encryptionKeyName") else ["encryptionKeyName is not set (Google-managed key)"]


def _apsara_key(p: Any, _c) -> list[str]:
    # TDE (tdeStatus) or disk encryption (encryptionKey) with a KMS key the team owns.
    if get(p, "encryptionKey") or (get(p, "tdeStatus") == "Enabled" and get(p, "tdeEncryptionKey")):
        return []
    return ["neither encryptionKey nor tdeStatus 'Enabled' with tdeEncryptionKey is set"]


database_encryption = table_rule(
    "database-customer-managed-encryption",
    "Managed databases are encrypted at rest with a customer-managed key. Fix: RDS/Aurora: storageEncrypted "
    "true with kmsKeyId; Redshift: encrypted true with kmsKeyId; Cloud SQL: encryptionKeyName; ApsaraDB RDS: "
    "encryptionKey (or tdeStatus 'Enabled' with tdeEncryptionKey).",
    {RDS: _aws_key("storageEncrypted"), AURORA: _aws_key("storageEncrypted"), REDSHIFT: _aws_key("encrypted"),
     CLOUD_SQL: _cloud_sql_key, APSARA: _apsara_key},
)


def _aws_public(p: Any, _c) -> list[str]:
    return ["publiclyAccessible is true (an internet-resolvable endpoint)"] if truthy(get(p, "publiclyAccessible")) \
        else []


def _cloud_sql_public(p: Any, _c) -> list[str]:
    ip = get(p, "settings.ipConfiguration") or {}
    # Cloud SQL gives an instance a public IPv4 address unless ipv4Enabled is false.
    if get(ip, "ipv4Enabled") is False:
        return []
    nets = items(get(ip, "authorizedNetworks"))
    wide = [get(n, "value") for n in nets if open_to_internet([get(n, "value")])]
    if wide or open_to_internet([get(n, "value") for n in nets]):
        return [f"public IP with authorizedNetworks {wide or [get(n, 'value') for n in nets]} open to the internet"]
    return [] if nets else ["ipConfiguration.ipv4Enabled is not false (a public IP); use privateNetwork"]


def _apsara_public(p: Any, _c) -> list[str]:
    ips = [s.strip() for s in ",".join(str(v) for v in items(get(p, "securityIps"))).split(",") if s.strip()]
    return [f"securityIps {ips} admit the internet"] if open_to_internet(ips) else []


database_no_public_access = table_rule(
    "database-no-public-access",
    "Managed databases are not reachable from the internet. Fix: RDS/Aurora instances and Redshift: "
    "publiclyAccessible false; Cloud SQL: settings.ipConfiguration.ipv4Enabled false with privateNetwork (or "
    "authorizedNetworks limited to your ranges); ApsaraDB RDS: securityIps limited to your VPC ranges.",
    {RDS: _aws_public, AURORA_INSTANCE: _aws_public, REDSHIFT: _aws_public, CLOUD_SQL: _cloud_sql_public,
     APSARA: _apsara_public},
)


def _retention(key: str, default: int):
    def check(p: Any, _c) -> list[str]:
        days = get(p, key, default)
        return [] if days and float(days) > 0 else [f"{key} is {float(days):g} (no automated backups)"]
    return check


def _cloud_sql_backups(p: Any, _c) -> list[str]:
    return [] if get(p, "settings.backupConfiguration.enabled") is True else [
        "settings.backupConfiguration.enabled is not true"]


def _apsara_backups(p: Any, _c) -> list[str]:
    # ApsaraDB backs up by default (7 days); only a backup policy that sets no retention is a finding.
    days = get(p, "backupRetentionPeriod", get(p, "retentionPeriod"))
    return [f"backupRetentionPeriod is {float(days):g}"] if days is not None and float(days) <= 0 else []


database_backups = table_rule(
    "database-backups",
    "Managed databases keep automated backups. Fix: RDS/Aurora: backupRetentionPeriod >= 1 (an RDS instance "
    "without it is judged as 0, the provider's default); Redshift: "
    "automatedSnapshotRetentionPeriod >= 1; Cloud SQL: settings.backupConfiguration.enabled true; ApsaraDB: a "
    "BackupPolicy's backupRetentionPeriod >= 1.",
    {RDS: _retention("backupRetentionPeriod", 0), AURORA: _retention("backupRetentionPeriod", 1),
     REDSHIFT: _retention("automatedSnapshotRetentionPeriod", 1), CLOUD_SQL: _cloud_sql_backups,
     APSARA_BACKUP: _apsara_backups},
)

POLICIES = [database_encryption, database_no_public_access, database_backups]
