"""GKE cluster settings no other rule judges: legacy ABAC, client certificates, and the default node pool's
hardening when the cluster keeps it (removeDefaultNodePool not true)."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get
from newinfra.policies.rules.data_security.tables import table_rule

GKE = "gcp:container/cluster:Cluster"


def _gke(p: Any, _c) -> list[str]:
    problems = []
    if get(p, "enableLegacyAbac") is True:
        problems.append("enableLegacyAbac is true (ABAC bypasses RBAC)")
    if get(p, "masterAuth.clientCertificateConfig.issueClientCertificate") is True:
        problems.append("masterAuth.clientCertificateConfig.issueClientCertificate is true (a non-revocable "
                        "admin credential)")
    if get(p, "removeDefaultNodePool") is not True and get(p, "enableAutopilot") is not True:
        node = get(p, "nodeConfig") or {}
        if get(node, "workloadMetadataConfig.mode") != "GKE_METADATA":
            problems.append("default pool: nodeConfig.workloadMetadataConfig.mode is not GKE_METADATA")
        if get(node, "shieldedInstanceConfig.enableSecureBoot") is not True:
            problems.append("default pool: nodeConfig.shieldedInstanceConfig.enableSecureBoot is not true")
    return problems


gke_cluster_hardening = table_rule(
    "gke-cluster-hardening",
    "GKE clusters use RBAC only, issue no client certificates, and a kept default pool is hardened like any "
    "other. Fix: enableLegacyAbac false; masterAuth.clientCertificateConfig.issueClientCertificate false; "
    "removeDefaultNodePool true, or nodeConfig {workloadMetadataConfig: {mode: 'GKE_METADATA'}, "
    "shieldedInstanceConfig: {enableSecureBoot: true}}.",
    {GKE: _gke},
)

POLICIES = [gke_cluster_hardening]
