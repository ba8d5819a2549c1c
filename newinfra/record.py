"""The record of one offline run: every registered resource with its resolved inputs, and the stack outputs.

This is what the policy packs, the cost estimate, the Ansible inventory and the tests read. It is written
sorted and without timestamps so two runs of the same program give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESOURCES_FILE = "resources.json"
OUTPUTS_FILE = "outputs.json"
CONFIG_FILE = "config.json"
SECRET = "[secret]"
# A value not known until `pulumi up` (preview's "output<T>"): the engine's own marker, which pulumi-policy
# reads as unknown too, so rules see the record as they would under `pulumi preview --policy-pack`.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class Record:
    project: str
    stack: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_token]

    def by_urn(self) -> dict[str, dict[str, Any]]:
        return {r["urn"]: r for r in self.resources}

    def children(self, urn: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["parent"] == urn]

    def files(self) -> dict[str, str]:
        """File name -> text of the record as `newinfra plan` writes it (byte-stable)."""
        return {
            RESOURCES_FILE: dumps(self.resources),
            OUTPUTS_FILE: dumps(self.outputs),
            CONFIG_FILE: dumps({"project": self.project, "stack": self.stack, "config": self.config}),
        }

    def write(self, out_dir: Path) -> list[Path]:
        """Replace ``out_dir`` as a whole (newinfra.atomic.replace_dir): a reader or a crash mid-write sees
        the previous record or this one, never a mix of the two or an empty file."""
        from newinfra.atomic import replace_dir

        return replace_dir(out_dir, self.files())


def dumps(data: Any) -> str:
    """The one serialisation of records and reports: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_record(out_dir: Path) -> Record:
    """Read what `newinfra plan ENV` wrote (build/ENV/)."""
    from newinfra.atomic import read_dir_target

    name, out_dir = Path(out_dir).name, read_dir_target(out_dir)
    resources_path = out_dir / RESOURCES_FILE
    if not resources_path.is_file():
        raise FileNotFoundError(f"{resources_path} does not exist: run `newinfra plan` first")
    meta_path = out_dir / CONFIG_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    outputs_path = out_dir / OUTPUTS_FILE
    return Record(
        project=meta.get("project", ""),
        stack=meta.get("stack", name),
        resources=json.loads(resources_path.read_text()),
        outputs=json.loads(outputs_path.read_text()) if outputs_path.is_file() else {},
        config=meta.get("config", {}),
    )


def resource_regions(record: Record) -> dict[str, str]:
    """urn -> region, from the explicit provider each resource names. A provider without a region (a
    Kubernetes provider) takes the region of the component it belongs to (its cluster)."""
    providers = {r["urn"]: r["inputs"].get("region", "") for r in record.resources
                 if r["type"].startswith("pulumi:providers:")}
    region = {r["urn"]: providers.get((r["provider"] or "").rsplit("::", 1)[0], "") for r in record.resources}
    by_parent: dict[str, set[str]] = {}
    for r in record.resources:
        if region[r["urn"]] and r["parent"]:
            by_parent.setdefault(r["parent"], set()).add(region[r["urn"]])
    by_urn = record.by_urn()
    for urn in providers:
        if not providers[urn]:
            parent = by_urn[urn]["parent"]
            siblings = by_parent.get(parent, set())
            providers[urn] = next(iter(siblings)) if len(siblings) == 1 else ""
    from newinfra.providers import default_region, provider_defaults

    # A resource with no explicit provider uses the package's default one, configured from the stack.
    defaults = provider_defaults(record.config)
    return {r["urn"]: providers.get(r["urn"]) or providers.get((r["provider"] or "").rsplit("::", 1)[0], "")
            or ("" if r["provider"] else default_region(r["type"], defaults))
            for r in record.resources}


# AWS resource types whose ids have a well-known prefix (type token -> prefix).
AWS_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/route:Route": "r-rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/placementGroup:PlacementGroup": "pg",
    "aws:ec2/capacityBlockReservation:CapacityBlockReservation": "cr",
    "aws:fsx/lustreFileSystem:LustreFileSystem": "fs",
    "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation": "dra",
}


def digest(*parts: str, size: int = 17) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:size]


def offline_id(typ: str, urn: str) -> str | None:
    """The id the offline engine gives an AWS resource with a known id prefix or an Alibaba resource (None:
    its physical name or a type-specific id). A record keeps inputs, not ids, so a reader matching an input
    that holds such an id (a node group's subnetIds) to its resource computes it here: the engine's mocks
    use this same formula."""
    if typ.startswith("alicloud:"):
        return f"{typ.split(':')[-1].lower()[:6]}-{digest(urn, size=20)}"
    prefix = AWS_ID_PREFIX.get(typ)
    return f"{prefix}-{digest(urn)}" if prefix else None
