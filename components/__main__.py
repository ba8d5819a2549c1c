"""The component provider host: ``newinfra`` components for Pulumi programs in any language.

Pulumi puts every hosted component in one schema module (``newinfra:index:<ClassName>``), so class
names must be unique there and the registered type must be that token. The classes below are the
Python components under those names; their behaviour is the same, only the type token differs, and each
form declares the other's token as an alias (components/tokens.py), so a stack moving between them
replaces nothing.

Every component of every cloud is hosted.
"""

import pulumi
from newinfra.components.alicloud.cluster import GpuCluster as _AlicloudGpuCluster
from newinfra.components.alicloud.network import Network as _AlicloudNetwork
from newinfra.components.alicloud.storage import Storage as _AlicloudStorage
from newinfra.components.alicloud.vm_pool import GpuVmPool as _AlicloudGpuVmPool
from newinfra.components.aws.cluster import GpuCluster as _AwsGpuCluster
from newinfra.components.aws.dataset_cache import DatasetCache as _AwsDatasetCache
from newinfra.components.aws.guards import BudgetGuard as _AwsBudgetGuard
from newinfra.components.aws.guards import InterruptionQueue as _AwsInterruptionQueue
from newinfra.components.aws.network import Network as _AwsNetwork
from newinfra.components.aws.storage import Storage as _AwsStorage
from newinfra.components.aws.vm_pool import GpuVmPool as _AwsGpuVmPool
from newinfra.components.gcp.cluster import GpuCluster as _GcpGpuCluster
from newinfra.components.gcp.dataset_cache import DatasetCache as _GcpDatasetCache
from newinfra.components.gcp.guards import BudgetGuard as _GcpBudgetGuard
from newinfra.components.gcp.network import Network as _GcpNetwork
from newinfra.components.gcp.storage import Storage as _GcpStorage
from newinfra.components.gcp.tpu import TpuSlice as _GcpTpuSlice
from newinfra.components.gcp.vm_pool import GpuVmPool as _GcpGpuVmPool
from newinfra.components.k8s.platform import GpuPlatform as _GpuPlatform
from newinfra.components.k8s.serving import InferenceService as _InferenceService
from newinfra.components.tokens import PROVIDER_NAME, provider_token
from pulumi.provider.experimental import component_provider_host


class AwsGpuVmPool(_AwsGpuVmPool):
    """An EC2 GPU fleet (launch template + auto scaling group) with its Ansible inventory."""

    TYPE = provider_token("AwsGpuVmPool")


class AwsNetwork(_AwsNetwork):
    """A VPC over two or more zones: private node subnets, NAT-only public subnets, flow logs, S3 endpoint."""

    TYPE = provider_token("AwsNetwork")


class AwsStorage(_AwsStorage):
    """A dataset bucket with SSE-KMS (rotating customer key), public access blocked; FSx for Lustre when asked."""

    TYPE = provider_token("AwsStorage")


class AwsGpuCluster(_AwsGpuCluster):
    """EKS with encrypted secrets and a private endpoint; one managed GPU node group per pool."""

    TYPE = provider_token("AwsGpuCluster")


class GcpGpuVmPool(_GcpGpuVmPool):
    """A GCE GPU fleet (instance template + managed instance group) with its Ansible inventory."""

    TYPE = provider_token("GcpGpuVmPool")


class AlicloudGpuVmPool(_AlicloudGpuVmPool):
    """An ECS GPU fleet (ESS scaling group + configuration) with its Ansible inventory."""

    TYPE = provider_token("AlicloudGpuVmPool")


class GcpNetwork(_GcpNetwork):
    """A VPC with private subnetworks (flow logs, private Google access), Cloud NAT and IAP-only SSH."""

    TYPE = provider_token("GcpNetwork")


class GcpStorage(_GcpStorage):
    """A dataset bucket with CMEK, uniform access and public access prevention; Filestore when asked."""

    TYPE = provider_token("GcpStorage")


class GcpTpuSlice(_GcpTpuSlice):
    """A TPU slice (TPU VM or queued resource) with its accelerator type and topology, no external IPs."""

    TYPE = provider_token("GcpTpuSlice")


class AlicloudNetwork(_AlicloudNetwork):
    """A VPC with vSwitches in two or more zones and a NAT gateway (SNAT, one EIP)."""

    TYPE = provider_token("AlicloudNetwork")


class GcpGpuCluster(_GcpGpuCluster):
    """Private GKE with encrypted secrets, Workload Identity and shielded nodes; GPU and TPU node pools."""

    TYPE = provider_token("GcpGpuCluster")


class AlicloudStorage(_AlicloudStorage):
    """A private, KMS-encrypted, versioned OSS bucket; an encrypted Extreme NAS file system when asked."""

    TYPE = provider_token("AlicloudStorage")


class AlicloudGpuCluster(_AlicloudGpuCluster):
    """ACK Pro with a private API server and KMS-encrypted secrets; encrypted gn/ebmgn GPU node pools."""

    TYPE = provider_token("AlicloudGpuCluster")


class GpuPlatform(_GpuPlatform):
    """The GPU layer of one cluster: priorities, team quotas, Kueue, GPU operator, DCGM alerts."""

    TYPE = provider_token("GpuPlatform")


class AwsBudgetGuard(_AwsBudgetGuard):
    """An AWS cost budget notifying recipients and an encrypted SNS topic; a GPU stop action outside production."""

    TYPE = provider_token("AwsBudgetGuard")


class AwsInterruptionQueue(_AwsInterruptionQueue):
    """EventBridge interruption rules (spot, rebalance, scheduled, Capacity Block end) into an encrypted SQS queue."""

    TYPE = provider_token("AwsInterruptionQueue")


class GcpBudgetGuard(_GcpBudgetGuard):
    """A Cloud Billing budget for the project and scope label, with email channels and a CMEK Pub/Sub topic."""

    TYPE = provider_token("GcpBudgetGuard")


class AwsDatasetCache(_AwsDatasetCache):
    """A dataset's S3 bytes next to its GPUs: FSx for Lustre with data repository associations, or Mountpoint for S3."""

    TYPE = provider_token("AwsDatasetCache")


class GcpDatasetCache(_GcpDatasetCache):
    """A dataset's Cloud Storage bytes next to its GPUs: the Cloud Storage FUSE CSI driver with a file cache."""

    TYPE = provider_token("GcpDatasetCache")


class InferenceService(_InferenceService):
    """A model server behind the cloud's load balancer: zone spread, disruption budget, KEDA scaling, canary."""

    TYPE = provider_token("InferenceService")


HOSTED: list[type[pulumi.ComponentResource]] = [
    AlicloudGpuCluster, AlicloudGpuVmPool, AlicloudNetwork, AlicloudStorage, AwsBudgetGuard, AwsDatasetCache, AwsGpuCluster, AwsGpuVmPool,
    AwsInterruptionQueue, AwsNetwork, AwsStorage, GcpBudgetGuard, GcpDatasetCache, GcpGpuCluster, GcpGpuVmPool, GcpNetwork, GcpStorage,
    GcpTpuSlice, GpuPlatform, InferenceService,
]

if __name__ == "__main__":
    component_provider_host(HOSTED, name=PROVIDER_NAME)
