"""InferenceService: the pure plan (pods, spread, PDB, KEDA, load balancers, canary, zone loss) and the component
under the offline engine, with input keys checked against the pulumi_kubernetes SDK types."""

import copy

import pulumi
import pulumi_kubernetes as k8s
import pytest
from newinfra.components.planning.pools import plan_node_pool
from newinfra.components.planning.serving import (
    ZONE_KEY,
    plan_serving,
    pool_admits,
    schedulable_without_zone,
)

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.placement import Placement
from tests.stacks.test_inputs_match_provider_types import unknown_keys

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"


def pools(zones=("use1-az1", "use1-az2"), spot=True, profile="production"):
    def placement(market, nodes):
        return Placement(workload="chat", cloud="aws", region="us-east-1", zones=zones, instance_type="g6.xlarge",
                         accelerator="L4", accelerators_per_node=1, nodes=nodes, min_nodes=nodes,
                         max_nodes=nodes + 2, market=market, node_hourly_usd=1.0)
    out = [plan_node_pool(placement("on-demand", 2), kind="inference", profile=profile)]
    if spot:
        out.append(plan_node_pool(placement("spot", 1), kind="inference", profile=profile))
    return out


def args(**over):
    base = {"cloud": "aws", "profile": "production", "workload": "chat", "namespace": "product",
            "image": "vllm/vllm-openai:v0.10.1", "args": ["--model", "/models/llama"], "port": 8000,
            "accelerators_per_replica_node": 1, "min_replicas": 2, "max_replicas": 6,
            "priority_class": "newinfra-default", "node_pools": pools(),
            "exposure": {"tls_certificate": CERT}, "tags": {"owner": "ml"}}
    base.update(over)
    return base


def test_production_plans_an_on_demand_floor_and_a_spot_preferring_burst_spread_over_zones():
    plan = plan_serving(args())
    assert [(w.name, w.kind, w.replicas) for w in plan.workloads] == [
        ("chat-base", "Deployment", 2), ("chat-burst", "Deployment", 0)]
    base, burst = (plan.pod_specs[n] for n in ("chat-base", "chat-burst"))
    required = base["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert {"key": "newinfra.io/market", "operator": "In", "values": ["on-demand"]} in \
        required["nodeSelectorTerms"][0]["matchExpressions"]
    preferred = burst["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred[0]["preference"]["matchExpressions"][0]["values"] == ["spot"]
    spread = base["topologySpreadConstraints"][0]
    assert (spread["topologyKey"], spread["maxSkew"], spread["whenUnsatisfiable"]) == (ZONE_KEY, 1, "DoNotSchedule")
    server = base["containers"][0]
    assert server["resources"]["requests"] == {"nvidia.com/gpu": "1"}
    assert {"readinessProbe", "livenessProbe", "startupProbe"} <= set(server)
    assert base["priorityClassName"] == "newinfra-default"
    assert base["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present",
                                    "effect": "NoSchedule"}]
    assert plan.pdb["maxUnavailable"] == 1 and plan.pdb["selector"] == {"matchLabels": {
        "app.kubernetes.io/name": "chat"}}
    ((target, so),) = plan.scaled_objects
    assert target == "chat-burst" and so["maxReplicaCount"] == 4 and so["minReplicaCount"] == 0
    assert "vllm:num_requests_waiting" in so["triggers"][0]["metadata"]["query"]


def test_development_scales_to_zero_and_spreads_best_effort():
    plan = plan_serving(args(profile="development", min_replicas=0, node_pools=pools(("use1-az1",),
                                                                                      profile="development")))
    assert [(w.name, w.replicas) for w in plan.workloads] == [("chat-burst", 0)]
    assert plan.scaled_objects[0][1]["maxReplicaCount"] == 6
    spread = plan.pod_specs["chat-burst"]["topologySpreadConstraints"][0]
    assert spread["whenUnsatisfiable"] == "ScheduleAnyway"


def test_replicas_land_in_two_zones_and_one_zone_lost_leaves_them_schedulable():
    plan = plan_serving(args())
    planned = pools()
    zones = sorted({z for p in planned for z in p["zones"]})
    assert len(zones) >= 2
    for name, pod in plan.pod_specs.items():
        admitted = sorted({z for p in planned if pool_admits(pod, p) for z in p["zones"]})
        assert len(admitted) >= 2, name
        for lost in zones:
            assert schedulable_without_zone(pod, planned, lost), (name, lost)


def test_zone_loss_check_goes_red_when_the_only_admitting_pool_is_single_zone():
    plan = plan_serving(args())
    base = plan.pod_specs["chat-base"]
    # on-demand pool only in az1, spot pool in az2: the base (required on-demand) dies with az1
    split = [pools(("use1-az1",))[0], pools(("use1-az2",))[1]]
    assert schedulable_without_zone(base, split, "use1-az1") == []
    assert schedulable_without_zone(plan.pod_specs["chat-burst"], split, "use1-az1") == ["use1-az2"]
    untolerated = copy.deepcopy(split[1])
    untolerated["taints"].append({"key": "dedicated", "value": "x", "effect": "NoSchedule"})
    assert not pool_admits(plan.pod_specs["chat-burst"], untolerated)


def test_a_replica_spanning_nodes_is_a_leaderworkerset():
    plan = plan_serving(args(nodes_per_replica=2, min_replicas=2, max_replicas=3))
    assert {w.kind for w in plan.workloads} == {"LeaderWorkerSet"}
    assert plan.workloads[0].spec["leaderWorkerTemplate"]["size"] == 2
    assert plan.scaled_objects[0][1]["scaleTargetRef"]["apiVersion"] == "leaderworkerset.x-k8s.io/v1"


def test_aws_alb_is_internal_with_tls_and_weighted_canary():
    plan = plan_serving(args(canary={"image": "vllm/vllm-openai:v0.10.2", "weight": 10}))
    ((kind, _, meta, spec),) = plan.exposure
    a = meta["annotations"]
    assert kind == "Ingress" and spec["ingressClassName"] == "alb"
    assert a["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert a["alb.ingress.kubernetes.io/certificate-arn"] == CERT
    assert a["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
    assert '"weight": 90' in a["alb.ingress.kubernetes.io/actions.weighted"]
    assert '"serviceName": "chat-canary"' in a["alb.ingress.kubernetes.io/actions.weighted"]
    assert [n for n, _ in plan.services] == ["chat", "chat-canary"]


def test_gcp_gateway_internal_by_default_public_with_cloud_armor():
    gcp_pools = pools(("us-central1-a", "us-central1-b"))
    internal = plan_serving(args(cloud="gcp", node_pools=gcp_pools, exposure={"tls_certificate": "chat-cert"},
                                 canary={"image": "vllm/vllm-openai:v0.10.2", "weight": 20}))
    kinds = {k: s for k, _, _, s in internal.exposure}
    assert kinds["Gateway"]["gatewayClassName"] == "gke-l7-rilb"
    assert [r["weight"] for r in kinds["HTTPRoute"]["rules"][0]["backendRefs"]] == [80, 20]
    assert internal.armor_rules == ()
    public = plan_serving(args(cloud="gcp", node_pools=gcp_pools, exposure={
        "tls_certificate": "chat-cert", "public": True, "allowed_cidrs": ["203.0.113.0/24"]}))
    kinds = {k: s for k, _, _, s in public.exposure}
    assert kinds["Gateway"]["gatewayClassName"] == "gke-l7-global-external-managed"
    assert kinds["GCPBackendPolicy"]["default"]["securityPolicy"] == "product-chat-allow"
    assert public.armor_rules[0] == (1000, "allow", ("203.0.113.0/24",))
    assert public.armor_rules[-1][1] == "deny(403)"


def test_alicloud_slb_is_intranet_with_https():
    plan = plan_serving(args(cloud="alicloud", exposure={"tls_certificate": "1234-cn-beijing"},
                             node_pools=pools(("cn-beijing-h", "cn-beijing-i"))))
    ((kind, _, meta, spec),) = plan.exposure
    a = meta["annotations"]
    assert kind == "Service" and spec["type"] == "LoadBalancer"
    assert a["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type"] == "intranet"
    assert a["service.beta.kubernetes.io/alibaba-cloud-loadbalancer-protocol-port"] == "https:443"


@pytest.mark.parametrize(("over", "message"), [
    ({"min_replicas": 0}, "min_replicas: 0 in a production profile"),
    ({"exposure": {"tls_certificate": CERT, "public": True}}, "exposure.allowed_cidrs: [] on a public endpoint"),
    ({"exposure": {"tls_certificate": CERT, "public": True, "allowed_cidrs": ["0.0.0.0/0"]}},
     "exposure.allowed_cidrs[0]: '0.0.0.0/0' admits the whole internet"),
    ({"exposure": {"tls_certificate": "not-an-arn"}}, "exposure.tls_certificate: 'not-an-arn'"),
    ({"image": "vllm/vllm-openai:latest"}, "image: 'vllm/vllm-openai:latest'"),
    ({"node_pools": pools(("use1-az1",))}, "node_pools: zones ['use1-az1']: a production profile"),
    ({"autoscaling": {"metric": "cpu"}}, "autoscaling.metric: 'cpu' is not valid"),
    ({"canary": {"image": "x:1", "weight": 90}}, "weight: 90 is not valid"),
])
def test_bad_input_is_one_message_naming_the_key(over, message):
    with pytest.raises(ComponentInputError, match="^" + message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        plan_serving(args(**over))


def service(extra=None, gcp=False):
    from newinfra.components.k8s.serving import InferenceService

    def body():
        provider = k8s.Provider("cluster", kubeconfig=KUBECONFIG)
        providers = [provider]
        if gcp:
            import pulumi_gcp

            providers.append(pulumi_gcp.Provider("gcp", project="p", region="us-central1"))
        InferenceService("chat", args(**(extra or {})), pulumi.ResourceOptions(providers=providers))

    return run_callable(body)


def test_component_registers_every_object_with_sdk_declared_keys():
    record = service({"canary": {"image": "vllm/vllm-openai:v0.10.2", "weight": 10}})
    types = sorted({r["type"] for r in record.resources if r["custom"]})
    assert types == ["kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:keda.sh/v1alpha1:"
                     "ScaledObject", "kubernetes:networking.k8s.io/v1:Ingress", "kubernetes:policy/v1:PodDisruptionBudget",
                     "pulumi:providers:kubernetes"]
    checked = [r for r in record.resources if r["custom"] and r["type"].startswith("kubernetes:")]
    assert sorted(f for r in checked for f in unknown_keys(r)) == []
    pdb = record.of_type("kubernetes:policy/v1:PodDisruptionBudget")[0]["inputs"]
    assert pdb["spec"]["maxUnavailable"] == 1


def test_key_check_goes_red_on_a_misspelt_pod_key():
    record = service()
    deployment = copy.deepcopy(record.of_type("kubernetes:apps/v1:Deployment")[0])
    deployment["inputs"]["spec"]["template"]["spec"]["topologySpreadConstraint"] = []
    assert [f[2] for f in unknown_keys(deployment)] == ["spec.template.spec.topologySpreadConstraint"]


def test_public_gke_endpoint_gets_a_cloud_armor_policy():
    record = service({"cloud": "gcp", "node_pools": pools(("us-central1-a", "us-central1-b")), "exposure": {
        "tls_certificate": "chat-cert", "public": True, "allowed_cidrs": ["203.0.113.0/24"]}}, gcp=True)
    (policy,) = record.of_type("gcp:compute/securityPolicy:SecurityPolicy")
    assert policy["inputs"]["rules"][0]["match"]["config"]["srcIpRanges"] == ["203.0.113.0/24"]
    assert unknown_keys(policy) == []
    assert record.of_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")


def test_bad_input_registers_nothing():
    with pytest.raises(Exception, match="exposure.allowed_cidrs"):
        service({"exposure": {"tls_certificate": CERT, "public": True}})
