"""AWS Elastic Load Balancing: ALB / NLB hours and capacity units (usage)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get

KINDS = {"application": "alb", "network": "nlb"}


def _lb(props, ctx) -> list[Line]:
    kind = get(props, "loadBalancerType", "application")
    if kind not in KINDS:
        raise Unpriced(f"no price for a {kind} load balancer (priced: {sorted(KINDS)})")
    short = KINDS[kind]
    return [Line(f"{short.upper()} hour", ctx.hours, "LB-hour", ctx.service(f"aws.{short}.hour", f"an {short}")),
            Line("capacity units", ctx.usage["capacityUnits"] * ctx.hours, "LCU-hour",
                 ctx.service(f"aws.{short}.lcu", f"{short} capacity units"), usage=True)]


USAGE = {"capacityUnits": Spec(0, "average (N)LCUs over the month")}
PRICERS = {"aws:lb/loadBalancer:LoadBalancer": Pricer(_lb, USAGE),
           "aws:alb/loadBalancer:LoadBalancer": Pricer(_lb, USAGE)}
