"""newinfra:gcp:TpuSlice — TPU VM slices (or queued resources) for workloads outside Kubernetes: the
placement's type and topology, no external IPs, a dedicated service account, spot when asked."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.gcp.identity import grant_key_to_agents, node_service_account
from newinfra.components.gcp.keys import rotating_key
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.gcp import gcp_labels
from newinfra.components.planning.tpu import plan_tpu_slice
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError
from newinfra.facts import TPU_GENERATIONS

# market -> schedulingConfig
SCHEDULING: dict[str, dict[str, bool]] = {
    "on-demand": {},
    "spot": {"spot": True},
    "preemptible": {"preemptible": True},
}


class TpuSliceArgs(TypedDict):
    zone: str
    accelerator_type: str  # e.g. v5litepod-8, v5p-16, v6e-8
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    tags: dict[str, str]
    topology: NotRequired[str]  # checked against the slice; default: the slice's standard topology
    count: NotRequired[int]  # how many slices (default 1)
    market: NotRequired[str]  # on-demand | spot | preemptible
    queued: NotRequired[bool]  # provision through a queued resource (waits for capacity)
    runtime_version: NotRequired[str]  # default: the generation's runtime from components/planning/tpu.py
    # Encrypts the data disks (a key in the zone's region); without one the slice creates a rotating key.
    kms_key: NotRequired[pulumi.Input[str]]
    data_disk_gib: NotRequired[int]  # a persistent data disk per slice
    classification: NotRequired[str]
    # The workload the slices serve: a `newinfra-workload` label on each TPU VM, as GPU VM pools carry, so the
    # bill charges the workload's hoursPerMonth (the figure the placement lock used) rather than the month.
    workload: NotRequired[str]


class TpuSlice(pulumi.ComponentResource):
    TYPE = python_token("GcpTpuSlice")
    node_ids: pulumi.Output[list[str]]
    accelerator_type: pulumi.Output[str]
    topology: pulumi.Output[str]
    service_account: pulumi.Output[str]

    def __init__(self, name: str, args: TpuSliceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        zone = require_plain(args, "zone")
        topology = require_plain(args, "topology") if "topology" in args else None
        plan = plan_tpu_slice(require_plain(args, "accelerator_type"), topology, keys=("accelerator_type", "topology"))
        labels = gcp_labels(dict(require_plain(args, "tags")), args.get("classification"))
        workload = require_plain(args, "workload") if "workload" in args else None
        vm_labels = gcp_labels({**require_plain(args, "tags"), "newinfra-workload": workload},
                               args.get("classification")) if workload else labels
        market = args.get("market", "on-demand")
        if market == "flex-start":
            # the TPU VM API has flex-start through queued resources, but pulumi-gcp 10's V2QueuedResource takes no
            # provisioning model (its inputs: name, zone, project, tpu.nodeSpecs, deletionPolicy)
            raise ComponentInputError("market", "'flex-start' is not buildable for TPU VMs with pulumi-gcp's "
                                      "V2QueuedResource (no provisioning model); run the slice on GKE, whose TPU node "
                                      f"pools take flex-start, or use one of {sorted(SCHEDULING)}")
        if market not in SCHEDULING:
            raise ComponentInputError("market", f"{market!r} is not valid for TPU VMs; valid: {sorted(SCHEDULING)}")
        queued = bool(args.get("queued", False))
        if queued and market != "on-demand":
            raise ComponentInputError("market", f"{market!r} cannot be combined with queued=true: pulumi-gcp's V2QueuedResource has no "
                "scheduling config; use queued=false for spot slices")
        if queued and plan.topology != plan.default_topology:
            raise ComponentInputError("topology", f"{plan.topology!r} needs acceleratorConfig, which pulumi-gcp's V2QueuedResource lacks; "
                f"use queued=false or the standard topology {plan.default_topology!r}")
        count = int(require_plain(args, "count") if "count" in args else 1)
        if count < 1:
            raise ComponentInputError("count", f"{count} must be at least 1")
        disk_gib = require_plain(args, "data_disk_gib") if "data_disk_gib" in args else None
        if queued and disk_gib is not None:
            raise ComponentInputError("data_disk_gib", "queued resources cannot attach data disks; use queued=false")
        runtime = args.get("runtime_version", plan.runtime_version)
        shielded = {"enable_secure_boot": True} if TPU_GENERATIONS[plan.generation].secure_boot else None
        # The slice's standard topology goes by its type name (what price books and policies key on);
        # another valid topology of the same chips needs acceleratorConfig (the two are exclusive).
        shape = {"accelerator_type": plan.accelerator_type} if plan.topology == plan.default_topology else {
            "accelerator_config": {"type": TPU_GENERATIONS[plan.generation].api_type, "topology": plan.topology}}

        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        project = gcp.organizations.get_project_output(opts=pulumi.InvokeOutputOptions(parent=self))
        account, roles = node_service_account(name, project.project_id, self)
        network_config = {"network": args["network"], "subnetwork": args["subnetwork"],
                          "enable_external_ips": False, "can_ip_forward": False}
        after_roles = pulumi.ResourceOptions(parent=self, depends_on=roles)
        disk_key, grants = None, []
        if disk_gib is not None:
            region = zone.rsplit("-", 1)[0]
            disk_key = args.get("kms_key") or rotating_key(f"{name}-disks", region, labels, self).id
            grants = grant_key_to_agents(name, disk_key, project.number, ["compute"], self)

        nodes = []
        for i in range(count):
            node_name = f"{name}-{i}"
            if queued:
                queued_resource = gcp.tpu.V2QueuedResource(
                    node_name, zone=zone,
                    tpu={"node_specs": [{
                        "parent": pulumi.Output.concat("projects/", project.project_id, "/locations/", zone),
                        "node_id": physical("gcp:tpu:node", node_name),
                        "node": {"accelerator_type": plan.accelerator_type, "runtime_version": runtime,
                                 "network_config": network_config,
                                 "description": f"{plan.accelerator_type} {plan.topology} (newinfra {name})"},
                    }]},
                    opts=after_roles)
                nodes.append(queued_resource.id)
                continue
            data_disks = []
            if disk_gib is not None:
                disk = gcp.compute.Disk(
                    f"{node_name}-data", zone=zone, size=int(disk_gib), type=TPU_GENERATIONS[plan.generation].data_disk_type,
                    disk_encryption_key={"kms_key_self_link": disk_key}, labels=labels,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=grants))
                data_disks = [{"source_disk": disk.id, "mode": "READ_WRITE"}]
            vm = gcp.tpu.V2Vm(
                node_name, zone=zone, runtime_version=runtime,
                **shape,
                network_config=network_config,
                scheduling_config=SCHEDULING[market] or None,
                shielded_instance_config=shielded,
                service_account={"email": account.email, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
                metadata={"enable-oslogin": "TRUE"},
                data_disks=data_disks or None,
                labels={**vm_labels, "newinfra-tpu-topology": plan.topology.replace("x", "-")},
                opts=after_roles)
            nodes.append(vm.id)

        self.node_ids = pulumi.Output.all(*nodes)
        self.accelerator_type = pulumi.Output.from_input(plan.accelerator_type)
        self.topology = pulumi.Output.from_input(plan.topology)
        self.service_account = account.email
        self.register_outputs({"nodeIds": self.node_ids, "acceleratorType": self.accelerator_type,
                               "topology": self.topology})
