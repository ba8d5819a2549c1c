"""Every path to an instance that the launch-template and instance rules (D9, D10) do not see: spot
requests, launch configurations, Elastic IPs attached to GPU hosts, and ECS services and task sets that give
tasks public IPs. (EKS node groups without a launch template are D7's and D10's: nodes.py.)"""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import NOT_EVALUATED, get, items, of_types, stack_rule, truthy
from newinfra.policies.rules.data_security.exposure import accelerated_type
from newinfra.policies.rules.data_security.tables import table_rule
from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs

from newinfra.links import Index

EC2_INSTANCE = "aws:ec2/instance:Instance"
SPOT_REQUEST = "aws:ec2/spotInstanceRequest:SpotInstanceRequest"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
ECS_SERVICE = "aws:ecs/service:Service"
ECS_TASK_SET = "aws:ecs/taskSet:TaskSet"

METADATA_SCHEMA = PolicyConfigSchema(
    properties={"maxHopLimit": {"type": "integer", "minimum": 1, "maximum": 64, "default": 2}}
)


def _public_gpu(p: Any, _c) -> list[str]:
    itype = get(p, "instanceType")
    if not accelerated_type("aws", itype) or not truthy(get(p, "associatePublicIpAddress")):
        return []
    return [f"accelerator instance type {itype} with associatePublicIpAddress true"]


def _public_gpu_spot(p: Any, c) -> list[str]:
    nics = [i for i, n in enumerate(items(get(p, "networkInterfaces")))
            if truthy(get(n, "associatePublicIpAddress"))]
    found = _public_gpu(p, c)
    if nics and accelerated_type("aws", get(p, "instanceType")):
        found.append(f"networkInterfaces {nics} associate a public IP")
    return found


gpu_requests_not_public = table_rule(
    "accelerator-requests-no-public-ip",
    "GPU and accelerator hosts requested as spot instance requests or launch configurations get no public IP "
    "(launch templates and instances: no-public-node-ips). Fix: associatePublicIpAddress false, private "
    "subnets, egress through NAT.",
    {SPOT_REQUEST: _public_gpu_spot, LAUNCH_CONFIGURATION: _public_gpu},
)


def _instance_type(r: Any) -> str | None:
    return get(r.props, "instanceType")


def _eips(args: StackValidationArgs, report: ReportViolation) -> None:
    """An Elastic IP on a GPU host makes it public whatever its launch settings say."""
    hosts = Index(of_types(args.resources, [EC2_INSTANCE, SPOT_REQUEST]))
    for r in of_types(args.resources, [EIP, EIP_ASSOCIATION]):
        key = "instance" if r.resource_type == EIP else "instanceId"
        if not get(r.props, key):
            continue  # an EIP for a NAT gateway or a network interface: not an instance path
        targets = hosts.resolve(r, key)
        gpu = sorted({f"{t.name} ({_instance_type(t)})" for t in targets if accelerated_type("aws", _instance_type(t))})
        if gpu:
            report(f"'{r.name}' gives accelerator host {', '.join(gpu)} a public Elastic IP.", r.urn)
        elif not targets:
            report(f"{NOT_EVALUATED} accelerator-eip-not-public cannot see instance {get(r.props, key)!r} "
                   f"that '{r.name}' attaches to (not created in this stack); check it is not a GPU host.", r.urn)


gpu_eips = stack_rule(
    "accelerator-eip-not-public",
    "No Elastic IP is attached to a GPU or accelerator instance (or spot request) of the stack. Fix: remove "
    "the Eip/EipAssociation and reach the host through a bastion, SSM Session Manager or a load balancer.",
    [EIP, EIP_ASSOCIATION, EC2_INSTANCE, SPOT_REQUEST],
    _eips,
)


def _imds(p: Any, c) -> list[str]:
    problems = []
    if get(p, "metadataOptions.httpTokens") != "required":
        problems.append("metadataOptions.httpTokens is not 'required' (IMDSv2)")
    hops = get(p, "metadataOptions.httpPutResponseHopLimit")
    if hops is not None and hops > c["maxHopLimit"]:
        problems.append(f"metadataOptions.httpPutResponseHopLimit {hops:g} exceeds {c['maxHopLimit']}")
    return problems


imdsv2_every_path = table_rule(
    "imdsv2-every-path",
    "IMDSv2 on the AWS paths to an instance that hardened-instance-metadata (launch templates, instances, EKS "
    "node groups) does not judge: spot instance requests and launch configurations. Fix: metadataOptions "
    "{httpTokens: 'required', httpPutResponseHopLimit: 2}.",
    {SPOT_REQUEST: _imds, LAUNCH_CONFIGURATION: _imds},
    METADATA_SCHEMA,
)


def _ecs(p: Any, _c) -> list[str]:
    return ["networkConfiguration.assignPublicIp is true (every task gets a public IP)"] \
        if truthy(get(p, "networkConfiguration.assignPublicIp")) else []


ecs_no_public_ip = table_rule(
    "ecs-no-public-task-ips",
    "ECS services and task sets give their tasks no public IPs. Fix: networkConfiguration.assignPublicIp false "
    "in private subnets, with a NAT gateway or VPC endpoints for image pulls.",
    {ECS_SERVICE: _ecs, ECS_TASK_SET: _ecs},
)

POLICIES = [gpu_requests_not_public, gpu_eips, imdsv2_every_path, ecs_no_public_ip]
