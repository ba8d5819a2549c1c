"""GCP networking: Cloud NAT (per assigned VM-hour and GiB processed), forwarding rules (load balancers)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

MAX_BILLED_VMS = 32  # Cloud NAT bills uptime for at most 32 VMs per gateway


def _nat(props, ctx) -> list[Line]:
    vms = min(ctx.usage["vms"], MAX_BILLED_VMS)
    gib = ctx.usage["gibProcessed"]
    return [Line(f"gateway uptime for {vms:g} VM(s)", vms * ctx.hours, "VM-hour",
                 ctx.service("gcp.nat.vm-hour", "Cloud NAT uptime"), usage=True),
            Line(f"data processed {gib:g} GiB", gib, "GiB", ctx.service("gcp.nat.gib", "Cloud NAT data"), usage=True)]


def _rule(props, ctx) -> list[Line]:
    gib = ctx.usage["gibProcessed"]
    return [Line("forwarding rule", ctx.hours, "rule-hour", ctx.service("gcp.lb.rule", "a forwarding rule")),
            Line(f"data processed {gib:g} GiB", gib, "GiB", ctx.service("gcp.lb.gib", "LB data"), usage=True)]


RULE_USAGE = {"gibProcessed": Spec(0, "GiB through the load balancer per month")}
PRICERS = {
    "gcp:compute/routerNat:RouterNat": Pricer(_nat, {
        "vms": Spec(0, "VMs using the gateway (billed up to 32)"),
        "gibProcessed": Spec(0, "GiB processed per month, both directions")}),
    "gcp:compute/forwardingRule:ForwardingRule": Pricer(_rule, RULE_USAGE),
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": Pricer(_rule, RULE_USAGE),
}
