"""GKE cluster settings no other rule judges: legacy ABAC and client certificates. (A kept default node pool is
judged like any pool by node-disk-encryption, hardened-instance-metadata and gke-shielded-nodes.)"""

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
    return problems


gke_cluster_hardening = table_rule(
    "gke-cluster-hardening",
    "GKE clusters use RBAC only and issue no client certificates (a kept default pool is judged like any pool "
    "by node-disk-encryption, hardened-instance-metadata and gke-shielded-nodes). Fix: enableLegacyAbac "
    "false; masterAuth.clientCertificateConfig.issueClientCertificate false.",
    {GKE: _gke},
)

POLICIES = [gke_cluster_hardening]
