"""The Kubernetes GPU layer under the offline engine, with an explicit provider from a kubeconfig."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from newinfra.components.planning.k8s import GPU_OPERATOR_VERSION, KUEUE_API, KUEUE_VERSION
from newinfra.components.planning.pools import plan_node_pool

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from newinfra.placement import Placement

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
TAGS = {"owner": "ml-platform", "cost-center": "cc-42"}
TEAMS = [{"name": "vision", "gpus": 16}, {"name": "nlp", "gpus": 8}]
WORKLOADS = [{"name": "train", "kind": "training", "priority": 800},
             {"name": "serve", "kind": "inference", "priority": 500},
             {"name": "sweep", "kind": "batch", "priority": 10}]


def node_pools(cloud="aws"):
    def placement(workload, accelerator, instance_type, per_node, nodes, market, **extra):
        return Placement(workload=workload, cloud=cloud, region="r", zones=("z1",), instance_type=instance_type,
                         accelerator=accelerator, accelerators_per_node=per_node, nodes=nodes, min_nodes=0,
                         max_nodes=nodes * 2, market=market, node_hourly_usd=1.0, **extra)

    return [plan_node_pool(placement("train", "H100", "p5.48xlarge", 8, 2, "on-demand"), kind="training",
                           profile="production"),
            plan_node_pool(placement("sweep", "L4", "g6.xlarge", 1, 4, "spot"), kind="batch", profile="production")]


def platform(**extra):
    from newinfra.components.k8s.platform import GpuPlatform

    def body():
        provider = k8s.Provider("cluster", kubeconfig=KUBECONFIG)
        component = GpuPlatform("gpu", {"cloud": "aws", "node_pools": node_pools(), "teams": TEAMS,
                                        "workloads": WORKLOADS, "tags": TAGS, **extra},
                                pulumi.ResourceOptions(providers=[provider]))
        pulumi.export("priorityClasses", component.priority_classes)
        pulumi.export("flavors", component.flavors)

    return run_callable(body)


def inputs(record, type_token):
    return {r["name"]: r["inputs"] for r in record.of_type(type_token)}


def test_every_kubernetes_object_uses_the_explicit_provider():
    record = platform()
    k8s_objects = [r for r in record.resources if r["custom"] and r["type"].startswith("kubernetes:")]
    assert len(k8s_objects) > 10
    assert all(r["provider"] and "::cluster::" in r["provider"] for r in k8s_objects)


def test_gpu_operator_release_is_pinned_and_leaves_drivers_to_the_eks_image():
    record = platform()
    release = inputs(record, "kubernetes:helm.sh/v3:Release")["gpu-gpu-operator-release"]
    assert (release["chart"], release["version"]) == ("gpu-operator", GPU_OPERATOR_VERSION)
    assert release["repositoryOpts"] == {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    assert release["namespace"] == "gpu-operator"
    values = release["values"]
    assert values["driver"]["enabled"] is False
    assert values["toolkit"]["enabled"] is False  # the EKS NVIDIA AMI ships it
    assert values["dcgmExporter"]["enabled"] is True
    ns = inputs(record, "kubernetes:core/v1:Namespace")["gpu-gpu-operator-ns"]["metadata"]
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_team_namespaces_get_baseline_pod_security_and_a_gpu_quota():
    record = platform()
    namespaces = inputs(record, "kubernetes:core/v1:Namespace")
    vision = namespaces["gpu-teams-vision"]["metadata"]["labels"]
    assert vision["pod-security.kubernetes.io/enforce"] == "baseline"
    assert vision["newinfra.io/team"] == "vision" and vision["newinfra.io/owner"] == "ml-platform"
    quota = inputs(record, "kubernetes:core/v1:ResourceQuota")["gpu-teams-vision-accelerators"]
    assert quota["spec"]["hard"] == {"requests.nvidia.com/gpu": "16"}
    assert quota["metadata"]["namespace"] == "vision"


def test_priority_classes_and_the_workload_mapping():
    record = platform()
    classes = {i["metadata"]["name"]: i for i in inputs(record, "kubernetes:scheduling.k8s.io/v1:PriorityClass").values()}
    assert sorted(classes) == ["newinfra-critical-training", "newinfra-default", "newinfra-preemptible-batch"]
    assert classes["newinfra-preemptible-batch"]["preemptionPolicy"] == "Never"
    assert not any(c["globalDefault"] for c in classes.values())
    assert record.outputs["priorityClasses"] == {"serve": "newinfra-default", "sweep": "newinfra-preemptible-batch",
                                                 "train": "newinfra-critical-training"}


def test_kueue_flavors_queues_and_their_dependency_on_the_release():
    record = platform()
    release = inputs(record, "kubernetes:helm.sh/v3:Release")["gpu-kueue-release"]
    assert (release["chart"], release["version"]) == ("oci://registry.k8s.io/kueue/charts/kueue", KUEUE_VERSION)
    flavors = inputs(record, f"kubernetes:{KUEUE_API}:ResourceFlavor")
    h100 = flavors["gpu-kueue-flavor-h100-on-demand"]["spec"]
    assert h100["nodeLabels"] == {"newinfra.io/accelerator": "H100", "newinfra.io/market": "on-demand"}
    assert h100["tolerations"][0]["key"] == "nvidia.com/gpu"
    queue = next(iter(inputs(record, f"kubernetes:{KUEUE_API}:ClusterQueue").values()))["spec"]
    quotas = {f["name"]: f["resources"][0]["nominalQuota"] for f in queue["resourceGroups"][0]["flavors"]}
    assert quotas == {"h100-on-demand": 16, "l4-spot": 4}
    local = inputs(record, f"kubernetes:{KUEUE_API}:LocalQueue")
    assert sorted(q["metadata"]["namespace"] for q in local.values()) == ["nlp", "vision"]
    assert record.outputs["flavors"] == ["h100-on-demand", "l4-spot"]


def test_dcgm_alert_rules_with_thresholds():
    record = platform(alert_thresholds={"idle_minutes": 45, "temperature_celsius": 83},
                      prometheus_rule_labels={"release": "kube-prometheus-stack"})
    rule = next(iter(inputs(record, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").values()))
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    alerts = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"] if "alert" in r}
    assert alerts["GpuIdle"]["for"] == "45m"
    assert alerts["GpuHighTemperature"]["expr"].endswith("> 83")
    assert "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL" in alerts["GpuUncorrectableEcc"]["expr"]
    # the node-level alert's expected GPU counts come from the planned pools' instance types
    records = [r for r in rule["spec"]["groups"][0]["rules"] if "record" in r]
    assert [r["expr"].split(" * ")[0] for r in records] == ["1", "8"]
    assert 'instance_type="g6.xlarge"' in records[0]["expr"] and 'instance_type="p5.48xlarge"' in records[1]["expr"]
    assert "GpuNodeMissingGpus" in alerts


def test_device_plugin_option_replaces_the_operator_and_drops_alerts():
    record = platform(device_plugin_only=True)
    assert not [r for r in inputs(record, "kubernetes:helm.sh/v3:Release") if "gpu-operator" in r]
    assert not record.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    ds = next(iter(inputs(record, "kubernetes:apps/v1:DaemonSet").values()))
    container = ds["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("nvcr.io/nvidia/k8s-device-plugin:v")
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_tpu_only_cluster_gets_kueue_but_no_gpu_operator():
    from newinfra.components.k8s.platform import GpuPlatform

    tpu = plan_node_pool(Placement(workload="tpu", cloud="gcp", region="us-central1", zones=("us-central1-a",),
                                   instance_type="v5litepod-8", accelerator="tpu-v5litepod", accelerators_per_node=8,
                                   nodes=1, min_nodes=0, max_nodes=1, tpu_topology="2x4", node_hourly_usd=1.0),
                         kind="training", profile="development")

    def body():
        provider = k8s.Provider("gke", kubeconfig=KUBECONFIG)
        GpuPlatform("gpu", {"cloud": "gcp", "node_pools": [tpu], "teams": [{"name": "jax", "gpus": 0, "tpus": 8}],
                            "workloads": [{"name": "tpu", "kind": "training", "priority": 500}]},
                    pulumi.ResourceOptions(providers=[provider]))

    record = run_callable(body)
    assert not record.of_type("newinfra:k8s:GpuOperator")
    flavors = inputs(record, f"kubernetes:{KUEUE_API}:ResourceFlavor")
    assert list(flavors) == ["gpu-kueue-flavor-tpu-v5litepod-on-demand"]
    quota = inputs(record, "kubernetes:core/v1:ResourceQuota")["gpu-teams-jax-accelerators"]
    assert quota["spec"]["hard"]["requests.google.com/tpu"] == "8"


@pytest.mark.parametrize(("extra", "message"), [
    ({"cloud": "azure"}, "cloud: 'azure'"),
    ({"workloads": [{"name": "x", "kind": "serving", "priority": 1}]}, "kind: 'serving'"),
    ({"teams": [{"name": "Bad Team", "gpus": 1}]}, "teams\\[\\].name"),
    ({"node_pools": []}, "node_pools: at least one"),
])
def test_bad_platform_args_fail_before_any_resource(extra, message):
    with pytest.raises(ComponentInputError, match=message):
        platform(**extra)


def test_an_unknown_alert_threshold_is_refused_by_name():
    # A misspelt threshold silently meant the default before; now it names the key and the valid ones.
    with pytest.raises(ComponentInputError, match=r"alert_thresholds\.idle_minute\b.*valid: .*\bidle_minutes,"):
        platform(alert_thresholds={"idle_minute": 45})


def test_the_exporter_is_given_every_field_the_alert_rules_read():
    # dcgm-exporter's default counter list leaves out ECC, NVLink errors and clock-event reasons: without this
    # ConfigMap four of the alerts would watch series that never exist.
    from newinfra.components.planning.alerts import DCGM_FIELDS, DCGM_METRICS_CONFIGMAP, DCGM_METRICS_PATH

    record = platform()
    release = inputs(record, "kubernetes:helm.sh/v3:Release")["gpu-gpu-operator-release"]
    exporter = release["values"]["dcgmExporter"]
    assert exporter["config"] == {"name": DCGM_METRICS_CONFIGMAP}
    assert {"name": "DCGM_EXPORTER_COLLECTORS", "value": DCGM_METRICS_PATH} in exporter["env"]
    config_map = inputs(record, "kubernetes:core/v1:ConfigMap")["gpu-gpu-operator-dcgm-metrics"]
    assert config_map["metadata"]["name"] == DCGM_METRICS_CONFIGMAP
    assert config_map["metadata"]["namespace"] == release["namespace"]
    rows = [line.split(", ", 2) for line in config_map["data"]["dcgm-metrics.csv"].splitlines()]
    assert all(len(row) == 3 and row[1] in ("gauge", "counter") and row[2] for row in rows)
    fields = [row[0] for row in rows]
    assert len(fields) == len(set(fields)) and set(DCGM_FIELDS) <= set(fields)


def test_an_interruption_queue_is_refused_off_aws_before_anything_exists():
    # GKE and ACK take interruptions on the node (graceful shutdown); an AWS queue there is a wiring mistake.
    queue = {"queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "region": "us-east-1"}
    with pytest.raises(ComponentInputError, match=r"interruption_queue: is an AWS queue; cloud 'gcp'"):
        platform(cloud="gcp", interruption_queue=queue)
    with pytest.raises(ComponentInputError, match=r"interruption_queue.region: '' is empty"):
        platform(interruption_queue={**queue, "region": ""})
