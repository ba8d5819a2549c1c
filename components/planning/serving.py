"""Pure planning for an inference service on Kubernetes: the model server's pods (a Deployment, or a
LeaderWorkerSet when one replica spans nodes), their spread over zones, the disruption budget, the KEDA
autoscaler, the cloud's load balancer with TLS, and a canary revision. No resources here; tested on its own.

The TypedDicts are part of the components' schema, read from real annotations: no
``from __future__ import annotations`` in this module.

Two revisions of the model server may run: ``stable`` and, with ``canary``, ``canary``. Each revision is one
or two workloads:
- ``-base``: the on-demand floor (``min_replicas``; none outside production profiles, which scale to zero),
  required onto on-demand nodes;
- ``-burst``: overflow replicas, 0..(max - floor), scaled by KEDA on a Prometheus query, preferring spot nodes
  (and taking on-demand ones when no spot node is left).
"""

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from newinfra.components.planning.k8s import DNS_LABEL, RESOURCE_BY_VENDOR, tag_labels
from newinfra.components.planning.pools import LABEL_PREFIX, accelerator_vendor, label_value
from newinfra.components.planning.profile import PROFILES, behaviour

from newinfra.errors import ComponentInputError

ZONE_KEY = "topology.kubernetes.io/zone"
MARKET_LABEL = f"{LABEL_PREFIX}/market"
WORKLOAD_LABEL = f"{LABEL_PREFIX}/workload"
APP_LABEL = "app.kubernetes.io/name"
REVISION_LABEL = f"{LABEL_PREFIX}/revision"
ROLE_LABEL = f"{LABEL_PREFIX}/serving-role"  # base | burst
CLOUDS = ("alicloud", "aws", "gcp")

# KEDA and LeaderWorkerSet, the CRDs this plans objects of (the cluster must have them installed).
KEDA_API = "keda.sh/v1alpha1"
LWS_API = "leaderworkerset.x-k8s.io/v1"
GATEWAY_API = "gateway.networking.k8s.io/v1"
GKE_POLICY_API = "networking.gke.io/v1"

# What the autoscaler may scale on: metric name -> (PromQL over the service's pods, what the target means).
# vLLM exports vllm:num_requests_waiting and the request latency histogram; the DCGM exporter DCGM_FI_DEV_GPU_UTIL.
METRICS: dict[str, tuple[str, str]] = {
    "queue-depth": ('sum(vllm:num_requests_waiting{{namespace="{ns}",{sel}}})',
                    "requests waiting per replica"),
    "p95-latency": ('histogram_quantile(0.95, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket'
                    '{{namespace="{ns}",{sel}}}[2m])))', "p95 end-to-end latency in seconds"),
    "gpu-utilization": ('avg(DCGM_FI_DEV_GPU_UTIL{{namespace="{ns}",{sel}}})', "GPU utilisation percent"),
}
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"

# The load balancers, per cloud: AWS Load Balancer Controller (ALB through an Ingress: weighted target groups
# give the canary its share), GKE Gateway (HTTPRoute weights), ACK's cloud controller (SLB annotations).
ALB = "alb.ingress.kubernetes.io"
GKE_GATEWAY_CLASS = {False: "gke-l7-rilb", True: "gke-l7-global-external-managed"}
ACK_SLB = "service.beta.kubernetes.io/alibaba-cloud-loadbalancer"
TLS_POLICY_AWS = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTPS_PORT = 443


class ServingExposure(TypedDict):
    """How clients reach the service: private by default; public only with an allow-list."""

    public: NotRequired[bool]
    allowed_cidrs: NotRequired[list[str]]
    # AWS: an ACM certificate ARN; GCP: a Certificate Manager / pre-shared SSL certificate name; Alibaba: an
    # SLB certificate id. Required: the listener is HTTPS only.
    tls_certificate: str
    hostname: NotRequired[str]


class ServingAutoscaling(TypedDict):
    metric: NotRequired[str]  # queue-depth (default) | p95-latency | gpu-utilization
    target: NotRequired[float]
    prometheus_url: NotRequired[str]


class ServingCanary(TypedDict):
    image: str
    args: NotRequired[list[str]]
    weight: int  # percent of requests, 1..50
    replicas: NotRequired[int]


class ServingPool(TypedDict):
    """The node-pool facts serving needs (a NodePoolArgs value can be passed as is)."""

    name: str
    accelerator: str
    accelerators_per_node: int
    zones: list[str]
    min_size: int
    max_size: int
    market: str
    labels: dict[str, str]
    taints: list[dict[str, str]]


class InferenceServiceArgs(TypedDict):
    cloud: str
    profile: str
    workload: str
    namespace: str
    image: str
    args: NotRequired[list[str]]
    port: NotRequired[int]
    health_path: NotRequired[str]
    # accelerators one replica asks for on each of its nodes, and nodes per replica (> 1: LeaderWorkerSet)
    accelerators_per_replica_node: int
    nodes_per_replica: NotRequired[int]
    min_replicas: int
    max_replicas: int
    priority_class: str
    node_pools: list[ServingPool]
    exposure: ServingExposure
    autoscaling: NotRequired[ServingAutoscaling]
    canary: NotRequired[ServingCanary]
    tags: NotRequired[dict[str, str]]


@dataclass(frozen=True)
class Workload:
    """One Deployment or LeaderWorkerSet: its name, revision, role and what it renders to."""

    name: str
    revision: str  # stable | canary
    role: str  # base | burst
    kind: str  # Deployment | LeaderWorkerSet
    replicas: int
    spec: dict[str, Any]


@dataclass(frozen=True)
class ServingPlan:
    name: str
    namespace: str
    labels: dict[str, str]
    workloads: tuple[Workload, ...]
    pdb: dict[str, Any]
    scaled_objects: tuple[tuple[str, dict[str, Any]], ...]  # (name, spec) per burst workload
    services: tuple[tuple[str, dict[str, Any]], ...]  # (name, spec): one per revision
    # The load balancer: (kind, name, metadata extra, spec) per object (Ingress / Service / Gateway / HTTPRoute ...)
    exposure: tuple[tuple[str, str, dict[str, Any], dict[str, Any]], ...]
    # GCP public: the Cloud Armor rules (priority, action, cidrs) the component builds as a SecurityPolicy
    armor_rules: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    pod_specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # workload name -> pod spec


def check_image(key: str, image: Any) -> str:
    if not isinstance(image, str) or not re.match(r"^[a-z0-9./_:-]+(@sha256:[0-9a-f]{64})?$", image) \
            or not (":" in image.rsplit("/", 1)[-1] or "@" in image) or image.endswith(":latest"):
        raise _err(key, f"{image!r} is not valid; valid: an image with a pinned tag or digest "
                        "(vllm/vllm-openai:v0.10.1, ...@sha256:...), never :latest")
    return image


def check_command(key: str, args: Any) -> tuple[str, ...]:
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise _err(key, f"{args!r} is not valid; valid: a list of strings")
    return tuple(args)


def _err(key: str, reason: str) -> ComponentInputError:
    return ComponentInputError(key, reason)


def _int(args: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _err(key, f"{value!r} is not valid; valid: an integer in [{lo}, {hi}]")
    return value


def check_cidrs(key: str, cidrs: Any) -> tuple[str, ...]:
    if not isinstance(cidrs, list) or not all(isinstance(c, str) for c in cidrs):
        raise _err(key, f"{cidrs!r} is not valid; valid: a list of CIDRs such as ['203.0.113.0/24']")
    out = []
    for i, cidr in enumerate(cidrs):
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise _err(f"{key}[{i}]", f"{cidr!r} is not a CIDR; valid: e.g. '203.0.113.0/24'") from None
        if net.prefixlen == 0:
            raise _err(f"{key}[{i}]", f"{cidr!r} admits the whole internet; valid: the clients' own ranges")
        out.append(str(net))
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class Checked:
    cloud: str
    profile: str
    name: str
    namespace: str
    image: str
    args: tuple[str, ...]
    port: int
    health_path: str
    gpus: int
    resource: str
    nodes_per_replica: int
    floor: int
    max_replicas: int
    priority_class: str
    pools: tuple[dict[str, Any], ...]
    public: bool
    allowed_cidrs: tuple[str, ...]
    certificate: str
    hostname: str | None
    metric: str
    target: float
    prometheus_url: str
    canary: dict[str, Any] | None
    labels: dict[str, str]


def check_args(args: InferenceServiceArgs) -> Checked:
    """Every argument checked, in one place, before any resource: a bad one is one ComponentInputError naming it."""
    raw: dict[str, Any] = dict(args)
    for key in ("cloud", "profile", "workload", "namespace", "image", "priority_class", "node_pools", "exposure",
                "min_replicas", "max_replicas", "accelerators_per_replica_node"):
        if key not in raw:
            raise _err(key, "required argument is missing")
    unknown = sorted(set(raw) - set(InferenceServiceArgs.__annotations__))
    if unknown:
        raise _err(unknown[0], f"is not an argument; valid: {sorted(InferenceServiceArgs.__annotations__)}")
    cloud, profile = raw["cloud"], raw["profile"]
    if cloud not in CLOUDS:
        raise _err("cloud", f"{cloud!r} is not valid; valid: {list(CLOUDS)}")
    if profile not in PROFILES:
        raise _err("profile", f"{profile!r} is not valid; valid: {list(PROFILES)}")
    for key in ("workload", "namespace"):
        if not isinstance(raw[key], str) or not DNS_LABEL.match(raw[key]) or len(raw[key]) > 40:
            raise _err(key, f"{raw[key]!r} is not valid; valid: a DNS label of at most 40 characters")
    image = check_image("image", raw["image"])
    cmd = check_command("args", raw.get("args", []))
    port = _int(raw, "port", 8000, 1, 65535)
    health = raw.get("health_path", "/health")
    if not isinstance(health, str) or not health.startswith("/"):
        raise _err("health_path", f"{health!r} is not valid; valid: a path starting with '/'")
    gpus = _int(raw, "accelerators_per_replica_node", None, 1, 64)
    npr = _int(raw, "nodes_per_replica", 1, 1, 64)
    production = profile == "production"
    lo = 2 if production else 0
    floor = _int(raw, "min_replicas", None, 0, 10_000)
    if floor < lo:
        raise _err("min_replicas", f"{floor} in a production profile; valid: >= 2 (a replica in each of at least "
                                   "two zones, so that one zone's loss leaves the service up)")
    top = _int(raw, "max_replicas", None, 1, 10_000)
    if top < floor:
        raise _err("max_replicas", f"{top} is below min_replicas ({floor}); valid: >= {floor}")
    pools = list(raw["node_pools"])
    if not pools:
        raise _err("node_pools", "at least one node pool of the workload is needed")
    vendors = {accelerator_vendor(p["accelerator"]) for p in pools}
    if len(vendors) != 1 or "tpu" in vendors:
        raise _err("node_pools", f"pools of one GPU vendor are needed; got {sorted(vendors)}")
    for i, pool in enumerate(pools):
        if pool["accelerators_per_node"] < gpus:
            raise _err(f"node_pools[{i}].accelerators_per_node", f"{pool['accelerators_per_node']} is fewer than "
                                                                 f"accelerators_per_replica_node ({gpus})")
    if production:
        zones = sorted({z for p in pools for z in p["zones"]})
        if len(zones) < 2:
            raise _err("node_pools", f"zones {zones}: a production profile serves from at least two zones")
    exposure = dict(raw["exposure"])
    bad = sorted(set(exposure) - set(ServingExposure.__annotations__))
    if bad:
        raise _err(f"exposure.{bad[0]}", f"is not a key; valid: {sorted(ServingExposure.__annotations__)}")
    public = exposure.get("public", False)
    if not isinstance(public, bool):
        raise _err("exposure.public", f"{public!r} is not valid; valid: true or false")
    cidrs = check_cidrs("exposure.allowed_cidrs", exposure.get("allowed_cidrs", []))
    if public and not cidrs:
        raise _err("exposure.allowed_cidrs", "[] on a public endpoint; valid: the clients' CIDRs (a public "
                                             "inference endpoint is reachable only from an allow-list)")
    cert = exposure.get("tls_certificate")
    if not isinstance(cert, str) or not cert:
        raise _err("exposure.tls_certificate", f"{cert!r} is not valid; valid: the certificate the listener "
                                               "terminates TLS with (AWS: ACM ARN; GCP: certificate name; "
                                               "Alibaba: SLB certificate id)")
    if cloud == "aws" and not re.match(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$", cert):
        raise _err("exposure.tls_certificate", f"{cert!r} is not valid; valid: an ACM certificate ARN")
    hostname = exposure.get("hostname")
    if hostname is not None and not re.match(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$", str(hostname)):
        raise _err("exposure.hostname", f"{hostname!r} is not valid; valid: a DNS name such as chat.example.com")
    scaling = dict(raw.get("autoscaling") or {})
    bad = sorted(set(scaling) - set(ServingAutoscaling.__annotations__))
    if bad:
        raise _err(f"autoscaling.{bad[0]}", f"is not a key; valid: {sorted(ServingAutoscaling.__annotations__)}")
    metric = scaling.get("metric", "queue-depth")
    if metric not in METRICS:
        raise _err("autoscaling.metric", f"{metric!r} is not valid; valid: {sorted(METRICS)}")
    target = scaling.get("target", {"queue-depth": 5, "p95-latency": 2, "gpu-utilization": 80}[metric])
    if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
        raise _err("autoscaling.target", f"{target!r} is not valid; valid: a number > 0")
    prometheus = scaling.get("prometheus_url", DEFAULT_PROMETHEUS)
    if not isinstance(prometheus, str) or not re.match(r"^https?://[^\s/]+", prometheus):
        raise _err("autoscaling.prometheus_url", f"{prometheus!r} is not valid; valid: an http(s) URL")
    canary = raw.get("canary")
    if canary is not None:
        canary = dict(canary)
        bad = sorted(set(canary) - set(ServingCanary.__annotations__))
        if bad:
            raise _err(f"canary.{bad[0]}", f"is not a key; valid: {sorted(ServingCanary.__annotations__)}")
        canary["image"] = check_image("canary.image", canary.get("image"))
        canary["args"] = check_command("canary.args", canary.get("args", []))
        canary["weight"] = _int(canary, "weight", None, 1, 50)
        canary["replicas"] = _int(canary, "replicas", 1, 1, max(1, top))
    return Checked(
        cloud=cloud, profile=profile, name=raw["workload"], namespace=raw["namespace"], image=image,
        args=cmd, port=port, health_path=health, gpus=gpus,
        resource=RESOURCE_BY_VENDOR[vendors.pop()], nodes_per_replica=npr,
        floor=floor if behaviour(profile).keep_node_floor else 0, max_replicas=top,
        priority_class=str(raw["priority_class"]), pools=tuple(dict(p) for p in pools), public=public,
        allowed_cidrs=cidrs, certificate=cert, hostname=hostname, metric=metric, target=float(target),
        prometheus_url=prometheus, canary=canary, labels=tag_labels(dict(raw.get("tags") or {})))


# --- pods ------------------------------------------------------------------------------------------------

def pod_spec(c: Checked, *, revision: str, role: str, image: str, args: tuple[str, ...]) -> dict[str, Any]:
    """The model server's pod: GPU requests, probes, priority class, the pools' tolerations, zone spread and
    the market affinity (base: required on-demand; burst: preferred spot)."""
    selector = {APP_LABEL: c.name, REVISION_LABEL: revision}
    workload_term = {"key": WORKLOAD_LABEL, "operator": "In", "values": [label_value(c.name)]}
    if role == "base":
        required = [workload_term, {"key": MARKET_LABEL, "operator": "In", "values": ["on-demand"]}]
        preferred: list[dict[str, Any]] = []
    else:
        required = [workload_term]
        preferred = [{"weight": 100, "preference": {"matchExpressions": [
            {"key": MARKET_LABEL, "operator": "In", "values": ["spot"]}]}}]
    affinity: dict[str, Any] = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": required}]}}}
    if preferred:
        affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    taints = sorted({(t["key"], t["value"], t["effect"]) for p in c.pools for t in p["taints"]})
    probe = {"httpGet": {"path": c.health_path, "port": "http"}}
    return {
        "priorityClassName": c.priority_class,
        "affinity": affinity,
        "tolerations": [{"key": k, "operator": "Equal", "value": v, "effect": e} for k, v, e in taints],
        "topologySpreadConstraints": [{
            "maxSkew": 1, "topologyKey": ZONE_KEY,
            # production: never two replicas in one zone before every zone has one; elsewhere best effort
            "whenUnsatisfiable": "DoNotSchedule" if c.profile == "production" else "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector}}],
        "containers": [{
            "name": "server", "image": image, "args": list(args),
            "ports": [{"name": "http", "containerPort": c.port}],
            "resources": {"requests": {c.resource: str(c.gpus)}, "limits": {c.resource: str(c.gpus)}},
            # a model takes minutes to load: readiness gates traffic, a startup probe keeps liveness off until then
            "startupProbe": {**probe, "periodSeconds": 10, "failureThreshold": 90},
            "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
            "livenessProbe": {**probe, "periodSeconds": 15, "failureThreshold": 4},
        }],
    }


def _workload(c: Checked, revision: str, role: str, replicas: int, image: str, args: tuple[str, ...]) -> Workload:
    suffix = "" if revision == "stable" else "-canary"
    name = f"{c.name}{suffix}-{role}"
    labels = {**c.labels, APP_LABEL: c.name, REVISION_LABEL: revision, ROLE_LABEL: role}
    template = {"metadata": {"labels": labels}, "spec": pod_spec(c, revision=revision, role=role, image=image,
                                                                 args=args)}
    if c.nodes_per_replica == 1:
        spec = {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}}
        return Workload(name, revision, role, "Deployment", replicas, spec)
    # One replica = a leader and (nodes_per_replica - 1) workers, each on its own node, gang-restarted.
    spec = {"replicas": replicas, "startupPolicy": "LeaderCreated",
            "rolloutStrategy": {"type": "RollingUpdate", "rollingUpdateConfiguration": {"maxUnavailable": 0,
                                                                                         "maxSurge": 1}},
            "leaderWorkerTemplate": {"size": c.nodes_per_replica, "restartPolicy": "RecreateGroupOnPodRestart",
                                     "leaderTemplate": template, "workerTemplate": template}}
    return Workload(name, revision, role, "LeaderWorkerSet", replicas, spec)


def scaled_object(c: Checked, target: Workload, max_replicas: int) -> dict[str, Any]:
    # the pods of this workload only: a canary or the base must not scale the burst
    query = METRICS[c.metric][0].format(ns=c.namespace, sel=f'pod=~"{target.name}-.*"')
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1" if target.kind == "Deployment" else LWS_API,
                           "kind": target.kind, "name": target.name},
        "minReplicaCount": 0, "maxReplicaCount": max_replicas,
        "pollingInterval": 15, "cooldownPeriod": 600,
        "triggers": [{"type": "prometheus", "metadata": {
            "serverAddress": c.prometheus_url, "query": query, "threshold": f"{c.target:g}"}}],
    }


def plan_serving(args: InferenceServiceArgs) -> ServingPlan:
    c = check_args(args)
    workloads: list[Workload] = []
    scaled: list[tuple[str, dict[str, Any]]] = []
    if c.floor:
        workloads.append(_workload(c, "stable", "base", c.floor, c.image, c.args))
    if c.max_replicas > c.floor:
        burst = _workload(c, "stable", "burst", 0, c.image, c.args)
        workloads.append(burst)
        scaled.append((burst.name, scaled_object(c, burst, c.max_replicas - c.floor)))
    if c.canary:
        workloads.append(_workload(c, "canary", "base", c.canary["replicas"], c.canary["image"],
                                   c.canary["args"]))
    selector = {APP_LABEL: c.name}
    # Across revisions and roles: at most one replica of the service down at a time by a voluntary disruption
    # (a drain, a node upgrade); with a single replica a drain waits rather than take the service down.
    pdb = {"maxUnavailable": 1, "selector": {"matchLabels": selector},
           "unhealthyPodEvictionPolicy": "AlwaysAllow"}
    services = [(c.name, _service_spec(c, "stable"))]
    if c.canary:
        services.append((f"{c.name}-canary", _service_spec(c, "canary")))
    return ServingPlan(
        name=c.name, namespace=c.namespace, labels=c.labels, workloads=tuple(workloads), pdb=pdb,
        scaled_objects=tuple(scaled), services=tuple(services), exposure=plan_exposure(c),
        armor_rules=armor_rules(c) if c.cloud == "gcp" and c.public else (),
        pod_specs={w.name: (w.spec["template"] if w.kind == "Deployment"
                            else w.spec["leaderWorkerTemplate"]["leaderTemplate"])["spec"] for w in workloads})


def _service_spec(c: Checked, revision: str) -> dict[str, Any]:
    return {"type": "ClusterIP", "selector": {APP_LABEL: c.name, REVISION_LABEL: revision},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}


# --- load balancers ----------------------------------------------------------------------------------------

def stable_weight(c: Checked) -> int:
    return 100 - (c.canary["weight"] if c.canary else 0)


def plan_exposure(c: Checked) -> tuple[tuple[str, str, dict[str, Any], dict[str, Any]], ...]:
    return {"aws": _aws, "gcp": _gcp, "alicloud": _alicloud}[c.cloud](c)


def _aws(c: Checked):
    """An ALB through the AWS Load Balancer Controller: internal unless public, HTTPS only with the ACM
    certificate, inbound CIDRs as the allow-list, and a forward action with weighted target groups."""
    backends = [{"serviceName": c.name, "servicePort": 80, "weight": stable_weight(c)}]
    if c.canary:
        backends.append({"serviceName": f"{c.name}-canary", "servicePort": 80, "weight": c.canary["weight"]})
    annotations = {
        f"{ALB}/scheme": "internet-facing" if c.public else "internal",
        f"{ALB}/target-type": "ip",
        f"{ALB}/listen-ports": json.dumps([{"HTTPS": HTTPS_PORT}]),
        f"{ALB}/certificate-arn": c.certificate,
        f"{ALB}/ssl-policy": TLS_POLICY_AWS,
        f"{ALB}/healthcheck-path": c.health_path,
        f"{ALB}/actions.weighted": json.dumps({"type": "forward", "forwardConfig": {"targetGroups": backends}},
                                              sort_keys=True),
    }
    if c.allowed_cidrs:
        annotations[f"{ALB}/inbound-cidrs"] = ",".join(c.allowed_cidrs)
    rule: dict[str, Any] = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
        "service": {"name": "weighted", "port": {"name": "use-annotation"}}}}]}}
    if c.hostname:
        rule["host"] = c.hostname
    return (("Ingress", c.name, {"annotations": annotations}, {"ingressClassName": "alb", "rules": [rule]}),)


def _gcp(c: Checked):
    """A GKE Gateway (regional internal L7 unless public: global external managed), HTTPS with the named
    certificate, an HTTPRoute with per-revision weights, and (public) a Cloud Armor allow-list on the backends."""
    listener: dict[str, Any] = {"name": "https", "protocol": "HTTPS", "port": HTTPS_PORT,
                                "tls": {"mode": "Terminate", "options": {"networking.gke.io/pre-shared-certs":
                                                                         c.certificate}},
                                "allowedRoutes": {"namespaces": {"from": "Same"}}}
    if c.hostname:
        listener["hostname"] = c.hostname
    gateway = {"gatewayClassName": GKE_GATEWAY_CLASS[c.public], "listeners": [listener]}
    refs = [{"name": c.name, "port": 80, "weight": stable_weight(c)}]
    if c.canary:
        refs.append({"name": f"{c.name}-canary", "port": 80, "weight": c.canary["weight"]})
    route: dict[str, Any] = {"parentRefs": [{"name": c.name, "sectionName": "https"}],
                             "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                        "backendRefs": refs}]}
    if c.hostname:
        route["hostnames"] = [c.hostname]
    out: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("Gateway", c.name, {}, gateway), ("HTTPRoute", c.name, {}, route)]
    for svc in [c.name] + ([f"{c.name}-canary"] if c.canary else []):
        spec: dict[str, Any] = {"default": {"logging": {"enabled": True}},
                                "targetRef": {"group": "", "kind": "Service", "name": svc}}
        if c.public:
            spec["default"]["securityPolicy"] = armor_policy_name(c)
        out.append(("GCPBackendPolicy", svc, {}, spec))
        out.append(("HealthCheckPolicy", svc, {}, {
            "default": {"config": {"type": "HTTP", "httpHealthCheck": {"requestPath": c.health_path,
                                                                       "port": c.port}}},
            "targetRef": {"group": "", "kind": "Service", "name": svc}}))
    return tuple(out)


def armor_policy_name(c: Checked) -> str:
    return f"{c.namespace}-{c.name}-allow"[:63]


def armor_rules(c: Checked) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """Allow the listed CIDRs (Cloud Armor takes at most 10 ranges per rule), deny everything else."""
    chunks = [c.allowed_cidrs[i:i + 10] for i in range(0, len(c.allowed_cidrs), 10)]
    return tuple((1000 + i, "allow", chunk) for i, chunk in enumerate(chunks)) + ((2147483647, "deny(403)", ("*",)),)


def _alicloud(c: Checked):
    """An SLB through ACK's cloud controller: intranet unless public, HTTPS with the SLB certificate, the
    allow-list as loadBalancerSourceRanges. ACK has no weighted routing on a Service: the canary takes its
    share by replica count (the Service selects both revisions)."""
    annotations = {
        f"{ACK_SLB}-address-type": "internet" if c.public else "intranet",
        f"{ACK_SLB}-protocol-port": f"https:{HTTPS_PORT}",
        f"{ACK_SLB}-cert-id": c.certificate,
        f"{ACK_SLB}-health-check-type": "http",
        f"{ACK_SLB}-health-check-uri": c.health_path,
    }
    spec: dict[str, Any] = {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                            "selector": {APP_LABEL: c.name},
                            "ports": [{"name": "https", "port": HTTPS_PORT, "targetPort": "http", "protocol": "TCP"}]}
    if c.allowed_cidrs:
        spec["loadBalancerSourceRanges"] = list(c.allowed_cidrs)
    return (("Service", f"{c.name}-lb", {"annotations": annotations}, spec),)


# --- what survives a zone's loss ------------------------------------------------------------------------------

def _matches(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    op, value = expr["operator"], labels.get(expr["key"])
    if op == "In":
        return value in expr["values"]
    if op == "NotIn":
        return value not in expr["values"]
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    raise ValueError(f"operator {op!r} is not modelled")


def pool_admits(pod: dict[str, Any], pool: dict[str, Any]) -> bool:
    """Whether a node of the pool can take the pod: required node affinity, tolerated NoSchedule taints, and
    the accelerators the pod requests."""
    terms = pod.get("affinity", {}).get("nodeAffinity", {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms", [])
    labels = pool["labels"]
    if terms and not any(all(_matches(e, labels) for e in t.get("matchExpressions", [])) for t in terms):
        return False
    tolerated = {(t["key"], t.get("value"), t["effect"]) for t in pod.get("tolerations", [])}
    if any(t["effect"] in ("NoSchedule", "NoExecute") and (t["key"], t["value"], t["effect"]) not in tolerated
           for t in pool["taints"]):
        return False
    requests = pod["containers"][0]["resources"]["requests"]
    return all(int(v) <= pool["accelerators_per_node"] for k, v in requests.items() if "/" in k)


def schedulable_without_zone(pod: dict[str, Any], pools: list[dict[str, Any]], lost: str) -> list[str]:
    """The zones (other than ``lost``) where a replica of the pod can still be scheduled after ``lost`` and
    its nodes are gone: a pool that admits it, can grow to a node, and has a zone left. The zone spread
    (maxSkew 1 over the zones of the admitting nodes) never blocks a replica while one such zone exists."""
    zones = set()
    for pool in pools:
        if pool["max_size"] >= 1 and pool_admits(pod, pool):
            zones |= {z for z in pool["zones"] if z != lost}
    return sorted(zones)
