"""newinfra:k8s:TeamNamespaces — a namespace per team with a ResourceQuota on requested accelerators.

Annotations stay real (no ``from __future__ import annotations``): the component provider reads them.
"""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from newinfra.components.plain import require_plain
from newinfra.components.planning.k8s import TEAM_LABEL, TeamQuota, check_teams, tag_labels, team_quota_hard

# Team pods run as ordinary workloads: "baseline" blocks privileged pods and host access, and the
# stricter "restricted" profile is reported so teams can move towards it.
POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}


class TeamNamespacesArgs(TypedDict):
    teams: list[TeamQuota]
    tags: NotRequired[dict[str, str]]


class TeamNamespaces(pulumi.ComponentResource):
    """Team namespaces (pod security labels) with a GPU/TPU ResourceQuota each."""

    TYPE = "newinfra:k8s:TeamNamespaces"

    namespaces: pulumi.Output[list[str]]

    def __init__(self, name: str, args: TeamNamespacesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        teams = check_teams(list(require_plain(args, "teams")))
        labels = tag_labels(dict(args.get("tags") or {}))
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        names = []
        for team in teams:
            ns = k8s.core.v1.Namespace(
                f"{name}-{team['name']}",
                metadata={"name": team["name"], "labels": {**labels, **POD_SECURITY, TEAM_LABEL: team["name"]}},
                opts=child)
            k8s.core.v1.ResourceQuota(
                f"{name}-{team['name']}-accelerators",
                metadata={"name": "accelerators", "namespace": ns.metadata["name"], "labels": labels},
                spec={"hard": team_quota_hard(team)},
                opts=child)
            names.append(team["name"])
        self.namespaces = pulumi.Output.from_input(names)
        self.register_outputs({"namespaces": self.namespaces})
