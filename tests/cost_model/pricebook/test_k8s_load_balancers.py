"""The load balancers Kubernetes objects become, priced with the cloud's own rows (services.csv): an alb Ingress
as an ALB, a gke-l7 Gateway as a forwarding rule, an ACK LoadBalancer Service as a CLB; a ClusterIP Service is
free; an object whose load balancer cannot be told is unpriced with the reason, never zero."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
from newinfra.cost_model.pricebook.bill import price_record
from newinfra.cost_model.pricebook.usage import Usage

from newinfra.offline import run_callable

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
SERVICE_SPEC = {"ports": [{"port": 443}], "selector": {"app": "chat"}}


def bill(body, usage=None):
    def program():
        body(pulumi.ResourceOptions(provider=k8s.Provider("cluster", kubeconfig=KUBECONFIG)))

    return price_record(run_callable(program), Usage(usage or {}, "test-usage.yaml"))


def only(b, type_token):
    return next(p for p in b.resources if p.type == type_token)


def test_alb_ingress_is_an_alb_hour_plus_its_capacity_units():
    b = bill(lambda o: k8s.networking.v1.Ingress("chat", spec={"ingressClassName": "alb", "rules": []}, opts=o),
             {"chat": {"capacityUnits": 2}})
    p = only(b, "kubernetes:networking.k8s.io/v1:Ingress")
    # services.csv aws.alb.hour 0.0225/LB-hour, aws.alb.lcu 0.008/LCU-hour (infracost lb_test golden)
    assert p.monthly_usd == pytest.approx(730 * 0.0225 + 2 * 730 * 0.008, abs=0.01)
    assert [line.price.source.startswith("github.com/infracost") for line in p.lines] == [True, True]


def test_gke_gateway_is_a_forwarding_rule():
    b = bill(lambda o: k8s.apiextensions.CustomResource(
        "chat", api_version="gateway.networking.k8s.io/v1", kind="Gateway",
        spec={"gatewayClassName": "gke-l7-rilb", "listeners": []}, opts=o))
    p = only(b, "kubernetes:gateway.networking.k8s.io/v1:Gateway")
    assert p.lines[0].price.usd == pytest.approx(0.01) and p.monthly_usd == pytest.approx(7.30)
    assert "proxies not priced" in p.lines[0].item


def test_ack_load_balancer_service_is_a_clb_and_a_cluster_ip_service_is_free():
    def body(o):
        k8s.core.v1.Service("lb", metadata={"annotations": {
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet"}},
            spec={**SERVICE_SPEC, "type": "LoadBalancer"}, opts=o)
        k8s.core.v1.Service("internal", spec={**SERVICE_SPEC, "type": "ClusterIP"}, opts=o)

    b = bill(body)
    lb = next(p for p in b.resources if p.name == "lb")
    assert lb.lines and lb.lines[0].price.quality.startswith("VERIFIED")  # alicloud.clb.hour, CNY 0.147
    assert lb.lines[0].quantity == 730
    internal = next(p for p in b.resources if p.name == "internal")
    assert internal.free and not internal.lines


@pytest.mark.parametrize("make, why", [
    (lambda o: k8s.networking.v1.Ingress("x", spec={"ingressClassName": "nginx"}, opts=o), "class 'nginx'"),
    (lambda o: k8s.apiextensions.CustomResource("x", api_version="gateway.networking.k8s.io/v1", kind="Gateway",
                                                spec={"gatewayClassName": "istio"}, opts=o), "class 'istio'"),
    (lambda o: k8s.core.v1.Service("x", spec={**SERVICE_SPEC, "type": "LoadBalancer"}, opts=o),
     "annotations do not say"),
])
def test_a_load_balancer_that_cannot_be_told_is_unpriced_with_the_reason(make, why):
    b = bill(make)
    (p,) = [p for p in b.resources if p.name == "x"]
    assert p.unpriced and why in p.unpriced and not p.lines
