"""newinfra:gcp:GpuVmPool — a GCE GPU fleet outside Kubernetes (Slurm or bare training hosts).

Instance template (no external IP, shielded VM, CMEK boot disk, OS Login, a dedicated service account,
the GPUs either attached (N1) or carried by the A2/A3/A4/G2 machine type, host maintenance TERMINATE,
spot scheduling when asked) + a managed instance group: zonal for compact multi-node training (with a
compact placement policy), regional across the placement's zones otherwise. A MIG holds a target size:
the pool's desired size (its min/max bound the AWS and Alibaba groups; on GCE the scheduler that owns the
fleet, e.g. Slurm's power saving, resizes the group).
The default image is plain Ubuntu 22.04: Ansible installs the driver branch from the inventory as Canonical's
signed precompiled modules, so Secure Boot stays on.
Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
from newinfra.components.physical import physical
from newinfra.components.plain import require_plain
from newinfra.components.planning.gcp import gcp_accelerator_type, gcp_labels
from newinfra.components.planning.vm_pool import VmPoolSpec, check_spec, host_facts, inventory
from newinfra.components.tokens import python_token, with_other_form

from newinfra.errors import ComponentInputError, input_path
from newinfra.facts import family_facts

DEFAULT_IMAGE = ("projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts", "ubuntu-22.04")
# Machine series that attach only Hyperdisk; the rest take Persistent Disk.
BOOT_DISK_TYPES = {"a3-ultragpu": "hyperdisk-balanced", "a4-highgpu": "hyperdisk-balanced"}
N1_GPU_COUNTS = (1, 2, 4, 8)  # what an N1 host accepts per VM
# Scheduling per market: GPU hosts cannot live-migrate, so host maintenance always stops them.
SCHEDULING: dict[str, dict[str, Any]] = {
    "on-demand": {"on_host_maintenance": "TERMINATE", "automatic_restart": True, "provisioning_model": "STANDARD"},
    "spot": {"on_host_maintenance": "TERMINATE", "automatic_restart": False, "provisioning_model": "SPOT",
             "preemptible": True, "instance_termination_action": "DELETE"},
    # DWS flex-start VMs (Compute Engine "Flex-start VMs"): no automatic restart, deleted at the end of a run
    # that must be bounded; seven days is the longest run flex-start allows (the cost model refuses longer).
    "flex-start": {"on_host_maintenance": "TERMINATE", "automatic_restart": False, "provisioning_model": "FLEX_START",
                   "instance_termination_action": "DELETE", "max_run_duration": {"seconds": 7 * 24 * 3600}},
}


class GcpGpuVmPoolArgs(TypedDict):
    pool: VmPoolSpec
    region: str
    subnetwork: pulumi.Input[str]
    # Cloud KMS key (id) for the boot disks; the Compute Engine service agent must hold
    # roles/cloudkms.cryptoKeyEncrypterDecrypter on it. Without one the pool creates such a key.
    kms_key_id: NotRequired[pulumi.Input[str]]
    tags: dict[str, str]
    classification: NotRequired[str]
    service_account_email: NotRequired[pulumi.Input[str]]
    source_image: NotRequired[str]
    os: NotRequired[str]
    boot_disk_gb: NotRequired[int]
    secure_boot: NotRequired[bool]


class GpuVmPool(pulumi.ComponentResource):
    """A GCE GPU fleet (instance template + managed instance group) with its Ansible inventory."""

    TYPE = python_token("GcpGpuVmPool")

    group_name: pulumi.Output[str]
    instance_template_id: pulumi.Output[str]
    # the hosts' identity: grant it read access to the datasets
    service_account_email: pulumi.Output[str]
    inventory: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: GcpGpuVmPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        spec: VmPoolSpec = require_plain(args, "pool")
        region = require_plain(args, "region")
        check_spec(spec, tuple(SCHEDULING))
        with input_path("pool"):
            facts = host_facts("gcp", spec["instance_type"], spec["accelerator"], spec["accelerators_per_node"])
            accelerators = self._guest_accelerators(spec, facts.family)
        image, os_name = args.get("source_image"), args.get("os")
        if bool(image) != bool(os_name):
            raise ComponentInputError("os" if image else "source_image",
                                      "source_image and os: give both (the inventory tells Ansible the OS) or neither")
        image, os_name = (image, os_name) if image and os_name else DEFAULT_IMAGE
        disk_gb = args.get("boot_disk_gb", 200)
        if not isinstance(disk_gb, int) or disk_gb < 50:
            raise ComponentInputError("boot_disk_gb", f"{disk_gb!r} must be an integer >= 50")
        labels = gcp_labels({**require_plain(args, "tags"), "newinfra-workload": spec["workload"],
                             "newinfra-pool": spec["name"],
                             **({"newinfra-kind": spec["kind"]} if spec.get("kind") else {})},
                            args.get("classification"))
        # Everything above only checks arguments: a bad one fails before any resource exists.
        super().__init__(self.TYPE, name, None, with_other_form(self.TYPE, opts))
        child = pulumi.ResourceOptions(parent=self)

        kms_key_id = args.get("kms_key_id") or self._disk_key(name, region, labels)
        email = args.get("service_account_email")
        if email is None:
            # Its own identity, not the project's default compute account (which is Editor).
            email = gcp.serviceaccount.Account(
                f"{name}-vm", account_id=physical("gcp:serviceaccount:account-id", f"{name}-vm"),
                display_name=f"GPU VM pool {name}", opts=child).email

        compact_policy = None
        if spec["compact"]:
            # One policy per template is all GCE accepts; hosts land close together in one zone.
            compact_policy = gcp.compute.ResourcePolicy(
                f"{name}-compact", region=region,
                group_placement_policy={"collocation": "COLLOCATED"}, opts=child).self_link

        template = gcp.compute.InstanceTemplate(
            f"{name}-tpl",
            name_prefix=f"{physical('gcp:compute:instance-template-prefix', name)}-",
            machine_type=spec["instance_type"],
            guest_accelerators=accelerators or None,
            disks=[{"boot": True, "auto_delete": True, "source_image": image, "disk_size_gb": disk_gb,
                    "disk_type": BOOT_DISK_TYPES.get(facts.family, "pd-balanced"),
                    "disk_encryption_key": {"kms_key_self_link": kms_key_id}}],
            # No access_configs: no external IP. gVNIC: A3/A4 require it, the others run faster with it.
            network_interfaces=[{"subnetwork": args["subnetwork"], "nic_type": "GVNIC"}],
            shielded_instance_config={"enable_secure_boot": args.get("secure_boot", True),
                                      "enable_vtpm": True, "enable_integrity_monitoring": True},
            scheduling=SCHEDULING[spec["market"]],
            service_account={"email": email, "scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
            metadata={"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
            resource_policies=compact_policy,
            labels=labels,
            opts=child)

        group_name = physical("gcp:compute:instance-group-manager", name)
        base_name = physical("gcp:compute:base-instance-name", name)
        version = [{"name": "primary", "instance_template": template.self_link_unique}]
        if spec["compact"] or len(spec["zones"]) == 1:
            group = gcp.compute.InstanceGroupManager(
                f"{name}-mig", name=group_name, base_instance_name=base_name, zone=spec["zones"][0],
                versions=version, target_size=spec["desired_size"], opts=child)
        else:
            group = gcp.compute.RegionInstanceGroupManager(
                f"{name}-mig", name=group_name, base_instance_name=base_name, region=region,
                distribution_policy_zones=sorted(spec["zones"]), distribution_policy_target_shape="ANY",
                versions=version, target_size=spec["desired_size"],
                # GPU capacity is scarce: never move running hosts to rebalance zones.
                update_policy={"type": "OPPORTUNISTIC", "minimal_action": "REPLACE",
                               "instance_redistribution_type": "NONE", "max_surge_fixed": 0,
                               "max_unavailable_fixed": len(spec["zones"])},
                opts=child)

        self.group_name = group.name
        self.instance_template_id = template.id
        self.service_account_email = pulumi.Output.from_input(email)
        self.inventory = pulumi.Output.from_input(
            inventory(cloud="gcp", region=region, spec=spec, facts=facts, os=os_name, group_name=group_name))
        self.register_outputs({"groupName": self.group_name, "inventory": self.inventory})

    def _disk_key(self, name: str, region: str, labels: dict[str, str]) -> pulumi.Output[str]:
        """A regional key, rotated every 90 days, that Compute Engine may use for the pool's disks."""
        child = pulumi.ResourceOptions(parent=self)
        # Auto-named: GCP never deletes key rings, so a fixed name could not be created twice.
        ring = gcp.kms.KeyRing(f"{name}-disks", location=region, opts=child)
        key = gcp.kms.CryptoKey(f"{name}-disks", name=physical("gcp:kms:crypto-key", f"{name}-disks"),
                                key_ring=ring.id, rotation_period="7776000s",
                                purpose="ENCRYPT_DECRYPT", labels=labels, opts=child)
        project = gcp.organizations.get_project_output(opts=pulumi.InvokeOutputOptions(parent=self))
        # Disks are encrypted by Compute Engine's service agent, not by the VM's service account.
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-disks-compute", crypto_key_id=key.id, role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=pulumi.Output.concat("serviceAccount:service-", project.number,
                                        "@compute-system.iam.gserviceaccount.com"), opts=child)
        # The template waits for the grant: a disk created before it would fail to encrypt.
        return pulumi.Output.all(key.id, grant.id).apply(lambda ids: ids[0])

    @staticmethod
    def _guest_accelerators(spec: VmPoolSpec, family: str) -> list[dict[str, Any]]:
        """A2/A3/A4/G2 machine types carry their GPUs; N1 hosts take them attached."""
        facts = family_facts("gcp", family)
        if facts is not None and facts.accelerator is not None:
            return []
        count = spec["accelerators_per_node"]
        if count not in N1_GPU_COUNTS:
            raise ComponentInputError("accelerators_per_node", f"{count} GPUs cannot attach to {spec['instance_type']!r}; "
                f"valid: {list(N1_GPU_COUNTS)}")
        return [{"type": gcp_accelerator_type(spec["accelerator"], spec["instance_type"]), "count": count}]
