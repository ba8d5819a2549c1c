"""AWS NAT gateways: the gateway hour, GB processed (usage), and the public IPv4 of a public gateway."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec


def _nat(props, ctx) -> list[Line]:
    gb = ctx.usage["gbProcessed"]
    # A public gateway's Elastic IP is its own resource (aws:ec2/eip:Eip), priced there.
    return [Line("NAT gateway", ctx.hours, "gateway-hour", ctx.service("aws.nat.hour", "a NAT gateway hour")),
             Line(f"data processed {gb:g} GB", gb, "GB", ctx.service("aws.nat.gb", "NAT data processed"), usage=True)]


PRICERS = {
    "aws:ec2/natGateway:NatGateway": Pricer(_nat, {
        "gbProcessed": Spec(0, "GB through the gateway per month, both directions")}),
}
