"""Example team program: a multi-node H100 training fleet on EC2 (for Slurm) and the GPU layer on the
team's existing EKS cluster, from newinfra's importable components.

Run offline: `newinfra plan`-style, `newinfra.offline.run_program(Path("stacks/examples/team-gpu"), "dev")`;
for real: `pulumi up -s dev` in this folder.
"""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from newinfra.components.aws.network import Network
from newinfra.components.aws.vm_pool import GpuVmPool
from newinfra.components.k8s.platform import GpuPlatform
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.planning.vm_pool import vm_pool_spec

from newinfra.placement import Placement

config = pulumi.Config()
region = config.require("region")
zone_id = config.require("zoneId")
tags = {"owner": config.require("owner"), "cost-center": config.require("costCenter")}
# production | development: whether pools keep their floor or may scale to zero (default development).
profile = config.get("profile") or "development"

# What the cost model would hand over; a team may also write it by hand.
fleet = Placement(workload="pretrain", cloud="aws", region=region, zones=(zone_id,), instance_type="p5.48xlarge",
                  accelerator="H100", accelerators_per_node=8, nodes=2, min_nodes=0, max_nodes=4,
                  runs_on="vm", node_hourly_usd=98.32)
serving = Placement(workload="serve", cloud="aws", region=region, zones=(zone_id,), instance_type="g6.2xlarge",
                    accelerator="L4", accelerators_per_node=1, nodes=2, min_nodes=1, max_nodes=6, market="spot",
                    node_hourly_usd=0.45)

# One explicit provider per (cloud, region): nothing lands in a region by accident.
on_aws = pulumi.ResourceOptions(provider=aws.Provider(f"aws-{region}", region=region))
network = Network("vision", {"cidr": "10.40.0.0/16", "zone_ids": [zone_id], "tags": tags}, on_aws)
key = aws.kms.Key("vision-disks", description="vision team GPU host disks", enable_key_rotation=True,
                  deletion_window_in_days=30, tags=tags, opts=on_aws)
pool = GpuVmPool("pretrain", {
    "pool": vm_pool_spec(fleet, kind="training", profile=profile),
    "region": region,
    "vpc_id": network.vpc_id,
    "subnet_ids": network.private_subnet_by_zone.apply(lambda by_zone: [by_zone[zone_id]]),
    "kms_key_arn": key.arn,
    "tags": tags,
    "classification": "internal",
}, on_aws)

cluster = k8s.Provider("vision-eks", kubeconfig=config.require("kubeconfig"))
platform = GpuPlatform("vision", {
    "cloud": "aws",
    "node_pools": [plan_node_pool(serving, kind="inference", profile=profile)],
    "teams": [{"name": "vision", "gpus": 6}],
    "workloads": [{"name": "serve", "kind": "inference", "priority": 500}],
    "tags": tags,
}, pulumi.ResourceOptions(providers=[cluster]))

pulumi.export("gpuVmPools", [pool.inventory])
pulumi.export("priorityClasses", platform.priority_classes)
