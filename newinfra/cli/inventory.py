"""Ansible inventory from the stack outputs: `newinfra inventory ENV` and ansible/stack_inventory.py.

Reads the "gpuVmPools" list that the VM-pool components export and the "tpuSlices" list of TPU VMs
(`pulumi stack output --json`, or the offline record `newinfra plan` writes to build/<env>/outputs.json).
GPU hosts are grouped by cloud, pool, instance family and accelerator under `gpu` (site.yml, validate.yml);
TPU VMs (one host per VM worker) by slice under `tpu` (tpu.yml). Every host carries expected_accelerators,
which the roles assert; GPU hosts also nvidia_driver_branch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from newinfra.exits import BAD_INPUT
from newinfra.facts import FamilyNameError, family_of

CLOUDS = ("alicloud", "aws", "gcp")
GROUP_KINDS = {"aws": "aws-asg", "gcp": "gcp-mig", "alicloud": "alicloud-ess"}
REQUIRED = {"name": str, "cloud": str, "region": str, "instanceType": str, "accelerator": str,
            "expectedAccelerators": int, "driverBranch": str, "fabricManager": bool, "efa": bool, "os": str,
            "hosts": list}


class InventoryError(ValueError):
    """A stack output the inventory cannot use; the message names the key path."""


def instance_family(cloud: str, instance_type: str) -> str:
    """The family the components and the catalog use (newinfra/facts.py ``family_of``)."""
    try:
        return family_of(cloud, instance_type)
    except FamilyNameError:
        raise InventoryError(f"instanceType {instance_type!r} is not a {cloud} instance type name") from None


def group_name(*parts: str) -> str:
    """Ansible group names allow letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts)).lower()


def validate_pool(pool: Any, where: str) -> dict:
    if not isinstance(pool, dict):
        raise InventoryError(f"{where}: expected an object, got {type(pool).__name__}")
    for key, kind in REQUIRED.items():
        if key not in pool:
            raise InventoryError(f"{where}.{key}: missing (the VM pool component exports it)")
        value = pool[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InventoryError(f"{where}.{key}: {value!r} is not a {kind.__name__}")
    if pool["cloud"] not in CLOUDS:
        raise InventoryError(f"{where}.cloud: {pool['cloud']!r}, valid: {', '.join(CLOUDS)}")
    if pool["expectedAccelerators"] < 1:
        raise InventoryError(f"{where}.expectedAccelerators: {pool['expectedAccelerators']} must be >= 1")
    if not re.fullmatch(r"[0-9]{3}", pool["driverBranch"]):
        raise InventoryError(f"{where}.driverBranch: {pool['driverBranch']!r} is not a driver branch like '580'")
    for i, host in enumerate(pool["hosts"]):
        if not isinstance(host, dict) or not host.get("name") or not host.get("privateIp"):
            raise InventoryError(f"{where}.hosts[{i}]: needs name and privateIp, got {host!r}")
    group = pool.get("group")
    if group is not None and (not isinstance(group, dict) or group.get("kind") != GROUP_KINDS[pool["cloud"]]
                              or not group.get("name")):
        raise InventoryError(f"{where}.group: {group!r}, expected kind {GROUP_KINDS[pool['cloud']]!r} and a name")
    return pool


def pools_from_outputs(outputs: dict) -> list[dict]:
    """The validated gpuVmPools of a stack's outputs (an absent list means no VM pools)."""
    if not isinstance(outputs, dict):
        raise InventoryError(f"stack outputs: expected a JSON object, got {type(outputs).__name__}")
    pools = outputs.get("gpuVmPools", [])
    if not isinstance(pools, list):
        raise InventoryError(f"gpuVmPools: expected a list, got {type(pools).__name__}")
    checked = [validate_pool(p, f"gpuVmPools[{i}]") for i, p in enumerate(pools)]
    names = [(p["cloud"], p["name"]) for p in checked]
    if len(set(names)) != len(names):
        raise InventoryError(f"gpuVmPools: pool names repeat within a cloud: {sorted(names)}")
    return checked


TPU_REQUIRED = {"zone": str, "acceleratorType": str, "topology": str, "market": str, "nodes": list}


def tpu_slices_from_outputs(outputs: dict) -> list[dict]:
    """The validated tpuSlices of a stack's outputs (absent: no TPU VMs)."""
    slices = outputs.get("tpuSlices", [])
    if not isinstance(slices, list):
        raise InventoryError(f"tpuSlices: expected a list, got {type(slices).__name__}")
    for i, entry in enumerate(slices):
        where = f"tpuSlices[{i}]"
        if not isinstance(entry, dict):
            raise InventoryError(f"{where}: expected an object, got {type(entry).__name__}")
        for key, kind in TPU_REQUIRED.items():
            if not isinstance(entry.get(key), kind):
                raise InventoryError(f"{where}.{key}: {entry.get(key)!r} is not a {kind.__name__} "
                                     "(the TPU slice component exports it)")
        for j, node in enumerate(entry["nodes"]):
            if not isinstance(node, str) or not node.rsplit("/", 1)[-1]:
                raise InventoryError(f"{where}.nodes[{j}]: {node!r} is not a TPU VM id")
    return slices


def tpu_groups(slices: list[dict]) -> dict[str, dict]:
    """group name -> {"hosts": {host: vars}}: one host per worker VM of each TPU VM node (a multi-host slice
    has several workers behind one node id), with the chips each worker must see."""
    from newinfra.components.planning.tpu import plan_tpu_slice
    from newinfra.errors import ComponentInputError

    groups: dict[str, dict] = {}
    for i, entry in enumerate(slices):
        try:
            plan = plan_tpu_slice(entry["acceleratorType"], entry["topology"])
        except ComponentInputError as error:
            raise InventoryError(f"tpuSlices[{i}]: {error}") from None
        name = group_name("tpu", "gcp", entry["zone"], entry["acceleratorType"], entry["market"])
        hosts = groups.setdefault(name, {"hosts": {}})["hosts"]
        for node in entry["nodes"]:
            node_name = node.rsplit("/", 1)[-1]
            for worker in range(plan.hosts):
                host = node_name if plan.hosts == 1 else f"{node_name}-w{worker}"
                hosts[host] = {
                    "cloud": "gcp", "zone": entry["zone"], "region": entry["zone"].rsplit("-", 1)[0],
                    "accelerator_type": entry["acceleratorType"], "tpu_topology": entry["topology"],
                    "tpu_generation": plan.generation, "tpu_worker": worker, "tpu_node_id": node,
                    "expected_accelerators": plan.chips // plan.hosts, "market": entry["market"],
                }
    return groups


HostResolver = Callable[[dict], list]


def build_inventory(outputs: dict, resolve: dict[str, HostResolver] | None = None) -> dict:
    """Ansible YAML inventory: group gpu > cloud_<c> > pool_<c>_<name>, plus family_* and accelerator_* groups.

    `resolve` maps a group kind ("aws-asg") to a function returning that group's hosts; pools whose hosts
    stay unknown are listed under all.vars.newinfra_unresolved_groups.
    """
    resolve = resolve or {}
    groups: dict[str, dict] = {}
    cloud_children: dict[str, set] = {}
    unresolved = []
    for pool in sorted(pools_from_outputs(outputs), key=lambda p: (p["cloud"], p["name"])):
        hosts = list(pool["hosts"])
        group = pool.get("group")
        if not hosts and group:
            resolver = resolve.get(group["kind"])
            if resolver:
                hosts = resolver(group)
            else:
                unresolved.append({"pool": pool["name"], **group})
        family = instance_family(pool["cloud"], pool["instanceType"])
        host_vars = {
            "expected_accelerators": pool["expectedAccelerators"], "nvidia_driver_branch": pool["driverBranch"],
            "fabric_manager_enabled": pool["fabricManager"], "efa_enabled": pool["efa"],
            "instance_type": pool["instanceType"], "accelerator": pool["accelerator"], "cloud": pool["cloud"],
            "region": pool["region"], "pool": pool["name"], "os_image": pool["os"],
        }
        pool_group = group_name("pool", pool["cloud"], pool["name"])
        members = {h["name"]: {"ansible_host": h["privateIp"], **host_vars}
                   for h in sorted(hosts, key=lambda h: h["name"])}
        groups[pool_group] = {"hosts": members}
        cloud_children.setdefault(group_name("cloud", pool["cloud"]), set()).add(pool_group)
        for extra in (group_name("family", pool["cloud"], family), group_name("accelerator", pool["accelerator"])):
            groups.setdefault(extra, {"hosts": {}})["hosts"].update({name: {} for name in members})
    children: dict[str, Any] = {name: {"children": {p: {} for p in sorted(pools)}}
                                for name, pools in sorted(cloud_children.items())}
    children.update({name: groups[name] for name in sorted(groups)
                     if name.startswith(("family_", "accelerator_"))})
    for pools in cloud_children.values():
        for p in pools:
            children[p] = groups[p]
    tpu = tpu_groups(tpu_slices_from_outputs(outputs))
    top: dict[str, Any] = {"gpu": {"children": {c: {} for c in sorted(cloud_children)}}}
    if tpu:
        top["tpu"] = {"children": {name: {} for name in sorted(tpu)}}
        children.update(tpu)
    inventory: dict[str, Any] = {"all": {"children": {**top, **dict(sorted(children.items()))}}}
    if unresolved:
        inventory["all"]["vars"] = {"newinfra_unresolved_groups": unresolved}
    return inventory


def to_script_json(inventory: dict) -> dict:
    """The same inventory in Ansible's inventory-script form (--list): groups with hosts/children + _meta."""
    out: dict[str, Any] = {"_meta": {"hostvars": {}}}
    top = inventory["all"]
    out["all"] = {"children": sorted(top["children"]), "vars": top.get("vars", {})}

    def walk(name: str, body: dict) -> None:
        entry = out.setdefault(name, {"hosts": [], "children": []})
        for host, host_vars in sorted((body.get("hosts") or {}).items()):
            entry["hosts"].append(host)
            out["_meta"]["hostvars"].setdefault(host, {}).update(host_vars)
        for child in sorted(body.get("children") or {}):
            entry["children"].append(child)
            walk(child, top["children"].get(child, {}))

    for name, body in sorted(top["children"].items()):
        walk(name, body)
    return out


def aws_asg_resolver(session_factory: Callable[[str], Any]) -> HostResolver:
    """Hosts of an EC2 auto scaling group: its running instances' ids and private IPs."""

    def resolve(group: dict) -> list[dict]:
        ec2 = session_factory(group["region"])
        hosts = []
        paginator = ec2.get_paginator("describe_instances")
        filters = [{"Name": "tag:aws:autoscaling:groupName", "Values": [group["name"]]},
                   {"Name": "instance-state-name", "Values": ["pending", "running"]}]
        for page in paginator.paginate(Filters=filters):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    if instance.get("PrivateIpAddress"):
                        hosts.append({"name": instance["InstanceId"], "privateIp": instance["PrivateIpAddress"]})
        return sorted(hosts, key=lambda h: h["name"])

    return resolve


def default_resolvers() -> dict[str, HostResolver]:
    import boto3

    return {"aws-asg": aws_asg_resolver(lambda region: boto3.client("ec2", region_name=region))}


def read_outputs(path: Path) -> dict:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InventoryError(f"not JSON ({error}): a damaged record, run `newinfra plan` again") from error
    except OSError as error:
        raise InventoryError(f"cannot be read ({error.strerror})") from error
    if not isinstance(doc, dict):
        raise InventoryError(f"stack outputs: expected a JSON object, got {type(doc).__name__}")
    return doc


def default_outputs(env: str) -> Path:
    """build/ENV/outputs.json of the project here or above (the record `newinfra plan ENV` writes, read as
    a whole even while a plan swaps it), else relative to the current directory."""
    from newinfra.atomic import read_dir_target
    from newinfra.project import ProjectError, find_project
    from newinfra.record import OUTPUTS_FILE

    try:
        build = find_project().build_dir(env)
    except ProjectError:
        build = Path("build") / env
    return read_dir_target(build) / OUTPUTS_FILE


def summary_line(inventory: dict) -> str:
    """How many hosts and groups, so an inventory without hosts says why."""
    script = to_script_json(inventory)
    gpu_pools = [g for g in script if g.startswith("pool_")]
    tpu_hosts = sorted({h for g in script.get("tpu", {}).get("children", []) for h in script[g]["hosts"]})
    gpu_hosts = sorted({h for g in gpu_pools for h in script[g]["hosts"]})
    if not gpu_pools and not tpu_hosts:
        return ("note: no GPU VM pools or TPU VMs in these outputs (the environment's accelerators run in "
                "Kubernetes node pools, which Ansible does not configure)")
    return (f"note: {len(gpu_pools)} GPU VM pool(s) with {len(gpu_hosts)} known host(s), {len(tpu_hosts)} TPU VM "
            "host(s)" + ("; TPU VM addresses are not stack outputs: Ansible connects by host name "
                         "(give them an SSH config entry or ansible_host)" if tpu_hosts else ""))


def render(inventory: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps(inventory, indent=2, sort_keys=True)
    import yaml

    return yaml.safe_dump(inventory, sort_keys=True, default_flow_style=False)


def register(app: typer.Typer) -> None:
    @app.command("inventory")
    def inventory_command(
        env: str = typer.Argument(..., help="environment (stack) name, like dev"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of YAML"),
        outputs: Path = typer.Option(None, "--outputs",
                                     help="stack outputs JSON (`pulumi stack output --json`); default build/ENV/outputs.json"),
        resolve_groups: bool = typer.Option(False, "--resolve-groups",
                                            help="list the hosts of AWS auto scaling groups (boto3, credentials)"),
    ) -> None:
        """Print the Ansible inventory of ENV's GPU VM pools and TPU VMs."""
        path = outputs or default_outputs(env)
        if not path.exists():
            typer.echo(f"{path} does not exist: run `newinfra plan {env}` first (or pass --outputs with "
                       "the JSON of `pulumi stack output --json`)", err=True)
            raise typer.Exit(BAD_INPUT)
        try:
            inventory = build_inventory(read_outputs(path), default_resolvers() if resolve_groups else None)
        except InventoryError as error:
            typer.echo(f"{path}: {error}", err=True)
            raise typer.Exit(BAD_INPUT) from error
        typer.echo(render(inventory, as_json))
        typer.echo(summary_line(inventory), err=True)
        unresolved = inventory["all"].get("vars", {}).get("newinfra_unresolved_groups", [])
        if unresolved:
            names = ", ".join(f"{g['kind']} {g['name']}" for g in unresolved)
            typer.echo(f"note: hosts of {names} are not listed (scaling groups; --resolve-groups lists AWS ones)",
                       err=True)

