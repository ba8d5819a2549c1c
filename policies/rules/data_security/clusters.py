"""D4-D6, D14: Kubernetes control planes: envelope-encrypted secrets, private endpoints, audit logs,
shielded nodes (EKS, GKE, ACK)."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import PolicyConfigSchema

from newinfra.cidrs import LIMIT_SCHEMA, judge

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"
GKE_POOL = "gcp:container/nodePool:NodePool"
ACK = "alicloud:cs/managedKubernetes:ManagedKubernetes"
ACK_DEDICATED = "alicloud:cs/kubernetes:Kubernetes"
CONTROL_PLANE_SCHEMA = PolicyConfigSchema(properties={"publicCidrLimit": LIMIT_SCHEMA})


def _eks_secrets(p: Any, _c) -> list[str]:
    ok = any("secrets" in items(get(e, "resources")) and get(e, "provider.keyArn")
             for e in items(get(p, "encryptionConfig")))
    return [] if ok else ["no encryptionConfig with resources ['secrets'] and provider.keyArn"]


def _gke_secrets(p: Any, _c) -> list[str]:
    ok = get(p, "databaseEncryption.state") == "ENCRYPTED" and get(p, "databaseEncryption.keyName")
    return [] if ok else ["databaseEncryption is not state ENCRYPTED with a keyName"]


def _ack_secrets(p: Any, _c) -> list[str]:
    return [] if get(p, "encryptionProviderKey") else ["no encryptionProviderKey (KMS key for secrets)"]


secrets_envelope_encryption = table_rule(
    "kubernetes-secrets-encryption",
    "D4: Kubernetes secrets are envelope-encrypted with a customer-managed key. Fix: EKS: encryptionConfig "
    "{resources: ['secrets'], provider.keyArn}; GKE: databaseEncryption {state: ENCRYPTED, keyName}; "
    "ACK: encryptionProviderKey.",
    {EKS: _eks_secrets, GKE: _gke_secrets, ACK: _ack_secrets, ACK_DEDICATED: _ack_secrets},
)


def _eks_private(p: Any, c) -> list[str]:
    problems = []
    if get(p, "vpcConfig.endpointPrivateAccess") is not True:
        problems.append("vpcConfig.endpointPrivateAccess is not true")
    if get(p, "vpcConfig.endpointPublicAccess", True) is not False:
        cidrs = items(get(p, "vpcConfig.publicAccessCidrs"))
        j = judge(cidrs or ["0.0.0.0/0"], c.get("publicCidrLimit"))  # EKS's default is 0.0.0.0/0
        if j.invalid:
            problems.append(f"vpcConfig.publicAccessCidrs {list(j.invalid)} are not CIDRs")
        elif j.open:
            source = "no publicAccessCidrs (EKS admits 0.0.0.0/0)" if not cidrs else f"publicAccessCidrs {j.describe()}"
            problems.append(f"the public API endpoint is open to the internet: {source}; set "
                            "vpcConfig.endpointPublicAccess false, or list only your networks")
    return problems


def _gke_private(p: Any, c) -> list[str]:
    problems = []
    if get(p, "privateClusterConfig.enablePrivateNodes") is not True:
        problems.append("privateClusterConfig.enablePrivateNodes is not true")
    if get(p, "privateClusterConfig.enablePrivateEndpoint") is not True:
        blocks = [get(b, "cidrBlock") for b in items(get(p, "masterAuthorizedNetworksConfig.cidrBlocks"))]
        j = judge(blocks, c.get("publicCidrLimit"))
        if not blocks:
            problems.append("the control plane endpoint is public and masterAuthorizedNetworksConfig lists no "
                            "cidrBlocks; set privateClusterConfig.enablePrivateEndpoint or list your networks")
        elif j.invalid or j.open:
            what = f"{list(j.invalid)} are not CIDRs" if j.invalid else f"admits {j.describe()}"
            problems.append(f"masterAuthorizedNetworksConfig {what}; list only your networks")
    return problems


def _ack_private(p: Any, _c) -> list[str]:
    # The provider's default is an internet-facing API server SLB, so only an explicit false passes.
    return [] if get(p, "slbInternetEnabled") is False else ["slbInternetEnabled is not false"]


private_control_plane = table_rule(
    "kubernetes-private-control-plane",
    "D5: control plane and nodes are private. Fix: EKS: vpcConfig endpointPrivateAccess true and "
    "endpointPublicAccess false (or publicAccessCidrs no wider than publicCidrLimit); GKE: privateClusterConfig "
    "enablePrivateNodes (and enablePrivateEndpoint or masterAuthorizedNetworksConfig); ACK: "
    "slbInternetEnabled false.",
    {EKS: _eks_private, GKE: _gke_private, ACK: _ack_private, ACK_DEDICATED: _ack_private},
    CONTROL_PLANE_SCHEMA,
)

AUDIT_SCHEMA = PolicyConfigSchema(
    properties={
        "eksLogTypes": {"type": "array", "items": {"type": "string"}, "default": ["api", "audit", "authenticator"]},
        "gkeComponents": {"type": "array", "items": {"type": "string"}, "default": ["APISERVER"]},
        "ackComponents": {"type": "array", "items": {"type": "string"}, "default": ["apiserver"]},
    }
)


def _missing(have: list[Any], want: list[Any], where: str) -> list[str]:
    gone = sorted({str(w) for w in want} - {str(h) for h in have})
    return [f"{where} lacks {gone}"] if gone else []


def _eks_audit(p: Any, c) -> list[str]:
    return _missing(items(get(p, "enabledClusterLogTypes")), c.get("eksLogTypes", []), "enabledClusterLogTypes")


def _gke_audit(p: Any, c) -> list[str]:
    if get(p, "loggingService") == "none":
        return ["loggingService is 'none'"]
    return _missing(items(get(p, "loggingConfig.enableComponents")), c.get("gkeComponents", []),
                    "loggingConfig.enableComponents")


def _ack_audit(p: Any, c) -> list[str]:
    return _missing(items(get(p, "controlPlaneLogComponents")), c.get("ackComponents", []),
                    "controlPlaneLogComponents")


control_plane_audit_logs = table_rule(
    "kubernetes-audit-logs",
    "D6: control-plane audit logs are on. Fix: EKS: enabledClusterLogTypes ['api', 'audit', "
    "'authenticator']; GKE: loggingConfig.enableComponents with 'APISERVER'; ACK: controlPlaneLogComponents "
    "with 'apiserver'.",
    {EKS: _eks_audit, GKE: _gke_audit, ACK: _ack_audit, ACK_DEDICATED: _ack_audit},
    AUDIT_SCHEMA,
)


def _gke_shielded(p: Any, _c) -> list[str]:
    # GKE turns shielded nodes on unless told otherwise; the default pool (unless removed) takes the
    # cluster's nodeConfig, so its secure boot is judged here too.
    problems = ["enableShieldedNodes is false"] if get(p, "enableShieldedNodes") is False else []
    if get(p, "removeDefaultNodePool") is not True:
        problems += [f"default pool: {x}" for x in _gke_pool_shielded(p, _c)]
    return problems


def _gke_pool_shielded(p: Any, _c) -> list[str]:
    problems = []
    if get(p, "nodeConfig.shieldedInstanceConfig.enableSecureBoot") is not True:
        problems.append("nodeConfig.shieldedInstanceConfig.enableSecureBoot is not true")
    if get(p, "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring") is False:
        problems.append("nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring is false")
    return problems


shielded_nodes = table_rule(
    "gke-shielded-nodes",
    "D14: GKE nodes are shielded with secure boot. Fix: leave enableShieldedNodes on and set "
    "nodeConfig.shieldedInstanceConfig {enableSecureBoot: true, enableIntegrityMonitoring: true}.",
    {GKE: _gke_shielded, GKE_POOL: _gke_pool_shielded},
)

POLICIES = [secrets_envelope_encryption, private_control_plane, control_plane_audit_logs, shielded_nodes]
