"""Issue 16's controllers in the reference stacks' offline plans: KEDA, the AWS Load Balancer Controller (with
its Pod Identity role) and the GKE Gateway API exactly on the clusters whose services need them, every service
object depending on its controller; the load balancers priced in the whole bill."""

from __future__ import annotations

import pytest
from newinfra.cost_model.pricebook.bill import price_record

from newinfra.offline import run_program
from tests.paths import REPO_ROOT


@pytest.fixture(scope="module")
def prod():
    return run_program(REPO_ROOT, "prod")


def _releases(record) -> dict[str, dict]:
    return {r["name"]: r for r in record.of_type("kubernetes:helm.sh/v3:Release")
            if r["inputs"]["name"] in ("keda", "lws", "aws-load-balancer-controller")}


def test_controllers_only_on_the_clusters_that_serve(prod):
    releases = _releases(prod)
    # search-serve on EKS us-east-2 (ALB Ingress), chat-serve on GKE us-east4 (Gateway); no replica spans nodes
    assert sorted(releases) == ["aws-us-east-2-serving-aws-lbc", "aws-us-east-2-serving-keda",
                                "gcp-us-east4-serving-keda"]
    (role,) = prod.of_type("newinfra:aws:LoadBalancerControllerRole")
    assert role["name"] == "aws-us-east-2-lb-controller"
    # Alibaba and the other clusters serve nothing: no controller there
    assert not any(name.startswith("alicloud-") for name in releases)


def test_gateway_api_only_on_the_gke_cluster_that_serves(prod):
    clusters = {r["name"]: r["inputs"] for r in prod.of_type("gcp:container/cluster:Cluster")}
    with_api = {n for n, i in clusters.items() if i.get("gatewayApiConfig")}
    assert with_api == {"gcp-us-east4-gpu-gke"}
    assert clusters["gcp-us-east4-gpu-gke"]["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}


def test_the_reference_records_that_serve_nothing_get_no_controller():
    for env in ("dev", "staging"):
        record = run_program(REPO_ROOT, env)
        assert not _releases(record) and not record.of_type("newinfra:k8s:ServingControllers")
        assert not any(r["inputs"].get("gatewayApiConfig") for r in record.of_type("gcp:container/cluster:Cluster"))


def test_service_objects_depend_on_their_controllers(prod):
    releases = {name: r["urn"] for name, r in _releases(prod).items()}
    for scaler in prod.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject"):
        cluster = "aws-us-east-2" if scaler["name"].startswith("aws-") else "gcp-us-east4"
        assert releases[f"{cluster}-serving-keda"] in scaler["dependencies"], scaler["name"]
    (ingress,) = prod.of_type("kubernetes:networking.k8s.io/v1:Ingress")
    assert releases["aws-us-east-2-serving-aws-lbc"] in ingress["dependencies"]
    (association,) = [r for r in prod.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if r["name"] == "aws-us-east-2-lb-controller-identity"]
    lbc = _releases(prod)["aws-us-east-2-serving-aws-lbc"]
    assert association["urn"] in lbc["dependencies"]  # the controller starts with its credentials in place
    assert association["inputs"]["serviceAccount"] == lbc["inputs"]["values"]["serviceAccount"]["name"]


def test_the_load_balancers_are_in_the_whole_bill(prod):
    bill = price_record(prod)
    lines = {p.type: p for p in bill.priced if p.type.startswith("kubernetes:")}
    alb = lines["kubernetes:networking.k8s.io/v1:Ingress"].lines[0]
    assert alb.price.usd == pytest.approx(0.0225) and alb.quantity == 730  # services.csv aws.alb.hour
    rule = lines["kubernetes:gateway.networking.k8s.io/v1:Gateway"].lines[0]
    assert rule.price.usd == pytest.approx(0.01) and rule.quantity == 730  # services.csv gcp.lb.rule
    assert sorted(lines) == ["kubernetes:gateway.networking.k8s.io/v1:Gateway",
                             "kubernetes:networking.k8s.io/v1:Ingress"]
