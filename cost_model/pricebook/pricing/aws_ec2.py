"""AWS compute: EC2 instances (and their root volume), Auto Scaling groups at desired and max size,
Elastic IPs (public IPv4 by the hour)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.pricing._compute import node_lines
from newinfra.cost_model.pricebook.pricing.aws_ebs import volume_lines

from newinfra.props import get


def _instance(props, ctx) -> list[Line]:
    lines = node_lines(props, ctx)
    size = get(props, "rootBlockDevice.volumeSize")
    if isinstance(size, int | float):  # without it the AMI's snapshot size applies, unknown offline
        lines += volume_lines(ctx, float(size), get(props, "rootBlockDevice.volumeType", "gp3"),
                              float(get(props, "rootBlockDevice.iops", 0) or 0),
                              float(get(props, "rootBlockDevice.throughput", 0) or 0), label="root ")
    if get(props, "associatePublicIpAddress") is True:
        lines.append(Line("public IPv4", ctx.hours, "IP-hour", ctx.service("aws.ipv4.hour", "public IPv4")))
    return lines


def _eip(props, ctx) -> list[Line]:
    return [Line("public IPv4 address", ctx.hours, "IP-hour", ctx.service("aws.ipv4.hour", "public IPv4"))]


PRICERS = {
    "aws:ec2/instance:Instance": Pricer(_instance),
    "aws:autoscaling/group:Group": Pricer(node_lines),
    "aws:ec2/eip:Eip": Pricer(_eip),
}
