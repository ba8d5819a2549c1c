"""Data-security rules: D1-D14 of the reference table plus residency, GPU interconnect and taints, and
Kubernetes workload privileges."""

from newinfra.policies.rules.data_security import (
    clusters,
    file_systems,
    gpu_pools,
    keys,
    network,
    nodes,
    object_storage,
    residency,
    workloads,
)

POLICIES = [
    *object_storage.POLICIES,
    *clusters.POLICIES,
    *nodes.POLICIES,
    *file_systems.POLICIES,
    *network.POLICIES,
    *keys.POLICIES,
    *residency.POLICIES,
    *gpu_pools.POLICIES,
    *workloads.POLICIES,
]
