"""Alibaba Cloud compute and network: ECS instances, NAT gateways, load balancers (ALB, NLB, CLB)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.pricing._compute import node_lines

from newinfra.props import get

ALB_EDITIONS = {"Basic": "basic", "Standard": "standard", "StandardWithWaf": "waf"}


def _nat(props, ctx) -> list[Line]:
    # The CU fee (per connection / GB processed) has no verified unit price: the line says so.
    return [Line("NAT gateway instance fee (CU fee not priced: no verified rate)", ctx.hours, "gateway-hour",
                 ctx.service("alicloud.nat.hour", "an Alibaba NAT gateway"))]


def _alb(props, ctx) -> list[Line]:
    edition = get(props, "loadBalancerEdition", "Basic")
    if edition not in ALB_EDITIONS:
        raise Unpriced(f"no price for ALB edition {edition!r} (priced: {sorted(ALB_EDITIONS)})")
    return [Line(f"ALB {edition} instance fee (LCU fee not priced)", ctx.hours, "instance-hour",
                 ctx.service(f"alicloud.alb.{ALB_EDITIONS[edition]}", "an ALB"))]


def _nlb(props, ctx) -> list[Line]:
    return [Line("NLB instance fee (LCU fee not priced)", ctx.hours, "instance-hour",
                 ctx.service("alicloud.nlb.hour", "an NLB"))]


def _clb(props, ctx) -> list[Line]:
    return [Line("CLB pay-by-usage instance fee", ctx.hours, "instance-hour",
                 ctx.service("alicloud.clb.hour", "a CLB"))]


def _eip(props, ctx) -> list[Line]:
    raise Unpriced("the EIP configuration fee and CDT traffic tiers are UNVERIFIED in the price source")


PRICERS = {
    "alicloud:ecs/eipAddress:EipAddress": Pricer(_eip),
    "alicloud:ecs/instance:Instance": Pricer(node_lines),
    "alicloud:vpc/natGateway:NatGateway": Pricer(_nat),
    "alicloud:alb/loadBalancer:LoadBalancer": Pricer(_alb),
    "alicloud:nlb/loadBalancer:LoadBalancer": Pricer(_nlb),
    "alicloud:slb/loadBalancer:LoadBalancer": Pricer(_clb),
}
