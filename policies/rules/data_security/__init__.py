"""Data-security rules: D1-D14 of the reference table plus residency, GPU interconnect and taints, and
Kubernetes workloads (kubernetes.py: one rule per fact, e.g. a privileged container is
kubernetes-workload-security's alone)."""

from newinfra.policies.rules.data_security import (
    cache_encryption,
    cache_residency,
    clusters,
    compute_paths,
    databases,
    file_systems,
    fsx_associations,
    gke_clusters,
    gpu_pools,
    iam,
    keys,
    kubernetes,
    load_balancers,
    network,
    nodes,
    object_storage,
    residency,
    serving_disruption_budget,
    serving_endpoints,
    serving_zone_spread,
    storage_coverage,
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
    # Coverage of everything a program can create (issue 13): one module per family.
    *databases.POLICIES,
    *storage_coverage.POLICIES,
    *iam.POLICIES,
    *compute_paths.POLICIES,
    *load_balancers.POLICIES,
    *gke_clusters.POLICIES,
    *kubernetes.POLICIES,
    # Model serving (issue 16): an allow-listed TLS endpoint, a disruption budget, two zones in production.
    *serving_endpoints.POLICIES,
    *serving_disruption_budget.POLICIES,
    *serving_zone_spread.POLICIES,
    # Dataset caches (issue 16): residency, encryption, the FSx association limit.
    *cache_residency.POLICIES,
    *cache_encryption.POLICIES,
    *fsx_associations.POLICIES,
]
