"""The serving rules (issue 16): a failing and a passing fixture each, through the offline runner. The model
servers are what InferenceService plans (components/planning/serving.py), so the passing fixtures are our own
output and the failing ones the same objects with one protection taken away."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.planning.serving import plan_serving

from newinfra.placement import Placement
from tests.policies.builders import check, flagged, res
from tests.policies.test_rules import Case

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
NS = "product"


def _pools(zones: tuple[str, ...]) -> list[dict[str, Any]]:
    p = Placement(workload="chat", cloud="aws", region="us-east-1", zones=zones, instance_type="g6.xlarge",
                  accelerator="L4", accelerators_per_node=1, nodes=2, min_nodes=2, max_nodes=4, node_hourly_usd=1.0)
    return [plan_node_pool(p, kind="inference", profile="production")]


def _plan(cloud="aws", **exposure):
    zones = ("us-central1-a", "us-central1-b") if cloud == "gcp" else ("use1-az1", "use1-az2")
    return plan_serving({"cloud": cloud, "profile": "production", "workload": "chat", "namespace": NS,
                         "image": "vllm/vllm-openai:v0.10.1", "accelerators_per_replica_node": 1, "min_replicas": 2,
                         "max_replicas": 4, "priority_class": "newinfra-default", "node_pools": _pools(zones),
                         "exposure": {"tls_certificate": CERT if cloud == "aws" else "cert", **exposure}})


def _meta(name: str, extra: dict | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": NS, **(extra or {})}


def objects(plan, *, pdb: bool = True) -> list[dict[str, Any]]:
    """The planned objects as recorded resources (the component registers exactly these)."""
    out = [res("kubernetes:apps/v1:Deployment", w.name, {"metadata": _meta(w.name), "spec": w.spec})
           for w in plan.workloads]
    if pdb:
        out.append(res("kubernetes:policy/v1:PodDisruptionBudget", "pdb", {"metadata": _meta("chat"),
                                                                          "spec": plan.pdb}))
    out += [res("kubernetes:core/v1:Service", f"svc-{n}", {"metadata": _meta(n), "spec": s}) for n, s in plan.services]
    tokens = {"Ingress": "kubernetes:networking.k8s.io/v1:Ingress", "Service": "kubernetes:core/v1:Service",
              "Gateway": "kubernetes:gateway.networking.k8s.io/v1:Gateway",
              "HTTPRoute": "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
              "GCPBackendPolicy": "kubernetes:networking.gke.io/v1:GCPBackendPolicy",
              "HealthCheckPolicy": "kubernetes:networking.gke.io/v1:HealthCheckPolicy"}
    out += [res(tokens[kind], f"{kind.lower()}-{n}", {"metadata": _meta(n, extra), "spec": spec})
            for kind, n, extra, spec in plan.exposure]
    return out


def node_pool(name: str, zones: list[str]) -> list[dict[str, Any]]:
    """A GKE node pool of the workload (its zones are its own nodeLocations)."""
    return [res("gcp:container/nodePool:NodePool", name, {
        "cluster": "c", "location": "us-central1", "nodeLocations": zones,
        "autoscaling": {"totalMinNodeCount": 2, "totalMaxNodeCount": 4},
        "nodeConfig": {"machineType": "g2-standard-4", "labels": {"newinfra.io/workload": "chat",
                                                                  "newinfra.io/kind": "inference"}}})]


def _public_aws(**annotations: str) -> list[dict[str, Any]]:
    out = objects(_plan(public=True, allowed_cidrs=["203.0.113.0/24"]))
    for r in out:
        if r["type"].endswith(":Ingress"):
            r["inputs"]["metadata"]["annotations"].update(annotations)
    return out


def _without_armor() -> list[dict[str, Any]]:
    out = objects(_plan("gcp", public=True, allowed_cidrs=["203.0.113.0/24"]))
    for r in out:
        if r["type"].endswith(":GCPBackendPolicy"):
            r["inputs"]["spec"]["default"].pop("securityPolicy")
    return out


def _unspread() -> list[dict[str, Any]]:
    out = copy.deepcopy(objects(_plan()))
    for r in out:
        if r["type"].endswith(":Deployment"):
            r["inputs"]["spec"]["template"]["spec"]["topologySpreadConstraints"][0]["whenUnsatisfiable"] = \
                "ScheduleAnyway"
    return out


OPEN = json.dumps([{"HTTP": 80}, {"HTTPS": 443}])
CASES = [
    Case("inference-endpoint-tls-allow-list", "aws-alb-open", _public_aws(**{
        "alb.ingress.kubernetes.io/inbound-cidrs": "0.0.0.0/0"}), _public_aws(), {"ingress-chat"}),
    Case("inference-endpoint-tls-allow-list", "aws-alb-plain-http", _public_aws(**{
        "alb.ingress.kubernetes.io/listen-ports": OPEN}), objects(_plan()), {"ingress-chat"}),
    Case("inference-endpoint-tls-allow-list", "gke-gateway-no-armor", _without_armor(),
         objects(_plan("gcp", public=True, allowed_cidrs=["203.0.113.0/24"])), {"gateway-chat"}),
    Case("serving-disruption-budget", "deployment", objects(_plan(), pdb=False), objects(_plan()),
         {"chat-base", "chat-burst"}),
    Case("serving-zone-spread", "spread-constraint", _unspread(), objects(_plan()), {"chat-base", "chat-burst"},
         environment="prod"),
    Case("serving-zone-spread", "one-zone-pool", objects(_plan()) + node_pool("np", ["us-central1-a"]),
         objects(_plan()) + node_pool("np", ["us-central1-a", "us-central1-b"]), {"chat-base", "chat-burst"},
         environment="prod"),
]


def _run(case: Case, resources):
    return check(resources, config=case.config, policy_config=case.policy_config, environment=case.environment)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}-{c.id}" for c in CASES])
def test_failing_fixture_is_reported_on_the_resource(case: Case) -> None:
    assert flagged(_run(case, case.failing), case.policy) == case.flagged


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}-{c.id}" for c in CASES])
def test_passing_fixture_is_clean(case: Case) -> None:
    ev = _run(case, case.passing)
    assert flagged(ev, case.policy) == set(), [v.message for v in ev.violations if v.policy == case.policy]


def test_zone_spread_is_not_applied_outside_production() -> None:
    ev = check(_unspread(), environment="dev")
    assert flagged(ev, "serving-zone-spread") == set()
