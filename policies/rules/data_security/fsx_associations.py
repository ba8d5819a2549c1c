"""FSx for Lustre takes at most 8 data repository associations per file system: a ninth fails at deploy
time, after the file system and the first eight links exist. Judged on the plan, before anything is created."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from newinfra.policies.rules.common import stack_rule
from pulumi_policy import ReportViolation, StackValidationArgs

from newinfra.links import Index

FSX = "aws:fsx/lustreFileSystem:LustreFileSystem"
DRA = "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation"
MAX_ASSOCIATIONS = 8  # AWS FSx for Lustre quota, not adjustable


def _association_limit(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    file_systems = Index([r for r in resources if r.resource_type == FSX])
    links: dict[str, list[Any]] = defaultdict(list)
    by_urn = {r.urn: r for r in resources}
    for link in (r for r in resources if r.resource_type == DRA):
        for fs in file_systems.resolve(link, "fileSystemId"):
            links[fs.urn].append(link)
    for urn, found in sorted(links.items()):
        if len(found) > MAX_ASSOCIATIONS:
            report(f"'{by_urn[urn].name}' has {len(found)} data repository associations; FSx for Lustre takes at "
                   f"most {MAX_ASSOCIATIONS} ({sorted(r.name for r in found)[MAX_ASSOCIATIONS:]} would fail).", urn)


fsx_association_limit = stack_rule(
    "fsx-association-limit",
    "An FSx for Lustre file system has at most 8 data repository associations (an AWS limit a deploy would hit "
    "halfway). Fix: link a parent prefix once, or split the datasets over two file systems.",
    (FSX, DRA),
    _association_limit,
)

POLICIES = [fsx_association_limit]
