"""The Kubernetes side of a dataset cache: a read-only static PersistentVolume for a CSI driver that mounts an
object store (Mountpoint for S3, Cloud Storage FUSE), pinned to the cache's region, and its claim. Used by
components/aws/dataset_cache.py and components/gcp/dataset_cache.py."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.planning.tags import CLASSIFICATION_KEY

REGION_LABEL = "topology.kubernetes.io/region"
DATASET_LABEL = "newinfra.io/dataset"


def dataset_claim(parent: pulumi.Resource, name: str, plan: dict[str, Any], handle: pulumi.Output[str],
           args: Any, driver: str, mount_options: list[str], attributes: dict[str, Any], after: pulumi.Resource) -> pulumi.Output[str]:
    """A read-only static PersistentVolume for the CSI driver, pinned to the cache's region, and its claim."""
    namespace = str(args.get("namespace") or "default")
    labels = {CLASSIFICATION_KEY: plan["classification"], DATASET_LABEL: plan["dataset"],
              "newinfra.io/purpose": "dataset-cache"}
    volume_name = f"{plan['dataset']}-cache"
    provider = k8s.Provider(f"{name}-k8s", kubeconfig=args["kubeconfig"], enable_server_side_apply=True,
                            opts=pulumi.ResourceOptions(parent=parent))
    opts = pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[after])
    # Capacity is what Kubernetes matches claims by; the driver ignores it (an object store has no size).
    capacity = f"{max(1, int(plan['local_cache_gb']))}Gi"
    k8s.core.v1.PersistentVolume(
        f"{name}-pv", metadata={"name": volume_name, "labels": labels},
        spec={"capacity": {"storage": capacity}, "access_modes": ["ReadOnlyMany"],
              "persistent_volume_reclaim_policy": "Retain", "storage_class_name": "",
              "claim_ref": {"namespace": namespace, "name": volume_name},
              "mount_options": mount_options,
              "csi": {"driver": driver, "volume_handle": handle, "read_only": True,
                      "volume_attributes": attributes},
              "node_affinity": {"required": {"node_selector_terms": [{"match_expressions": [
                  {"key": REGION_LABEL, "operator": "In", "values": [plan["region"]]}]}]}}},
        opts=opts)
    claim = k8s.core.v1.PersistentVolumeClaim(
        f"{name}-pvc", metadata={"name": volume_name, "namespace": namespace, "labels": labels},
        spec={"access_modes": ["ReadOnlyMany"], "storage_class_name": "", "volume_name": volume_name,
              "resources": {"requests": {"storage": capacity}}},
        opts=opts)
    return claim.metadata.name
