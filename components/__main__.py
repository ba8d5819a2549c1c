"""The component provider host: ``newinfra`` components for Pulumi programs in any language.

Pulumi puts every hosted component in one schema module (``newinfra:index:<ClassName>``), so class
names must be unique there and the registered type must be that token. The classes below are the
Python components under those names; their behaviour is the same, only the type token differs.
"""

import pulumi
from pulumi.provider.experimental import component_provider_host

from components.alicloud.vm_pool import GpuVmPool as _AlicloudGpuVmPool
from components.aws.vm_pool import GpuVmPool as _AwsGpuVmPool
from components.gcp.vm_pool import GpuVmPool as _GcpGpuVmPool
from components.k8s.platform import GpuPlatform as _GpuPlatform

PROVIDER_NAME = "newinfra"


class AwsGpuVmPool(_AwsGpuVmPool):
    """An EC2 GPU fleet (launch template + auto scaling group) with its Ansible inventory."""

    TYPE = f"{PROVIDER_NAME}:index:AwsGpuVmPool"


class GcpGpuVmPool(_GcpGpuVmPool):
    """A GCE GPU fleet (instance template + managed instance group) with its Ansible inventory."""

    TYPE = f"{PROVIDER_NAME}:index:GcpGpuVmPool"


class AlicloudGpuVmPool(_AlicloudGpuVmPool):
    """An ECS GPU fleet (ESS scaling group + configuration) with its Ansible inventory."""

    TYPE = f"{PROVIDER_NAME}:index:AlicloudGpuVmPool"


class GpuPlatform(_GpuPlatform):
    """The GPU layer of one cluster: priorities, team quotas, Kueue, GPU operator, DCGM alerts."""

    TYPE = f"{PROVIDER_NAME}:index:GpuPlatform"


HOSTED: list[type[pulumi.ComponentResource]] = [AlicloudGpuVmPool, AwsGpuVmPool, GcpGpuVmPool, GpuPlatform]

if __name__ == "__main__":
    component_provider_host(HOSTED, name=PROVIDER_NAME)
