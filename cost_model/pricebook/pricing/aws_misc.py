"""Other AWS charges a stack creates: Secrets Manager secrets, ECR repositories, Route 53 zones, Lambda."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line, Unpriced
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get


def _secret(props, ctx) -> list[Line]:
    return [Line("secret", 1, "secret-month", ctx.service("aws.secrets.secret", "a secret"))]


def _ecr(props, ctx) -> list[Line]:
    gb = ctx.usage["gbStored"]
    return [Line(f"image storage {gb:g} GB", gb, "GB-month", ctx.service("aws.ecr.storage", "ECR storage"),
                 usage=True)]


def _zone(props, ctx) -> list[Line]:
    return [Line("hosted zone", 1, "zone-month", ctx.service("aws.route53.zone", "a hosted zone"))]


def _lambda(props, ctx) -> list[Line]:
    gb = float(get(props, "memorySize", 128)) / 1024
    n = ctx.usage["requests"]
    seconds = n * ctx.usage["averageDurationMs"] / 1000
    return [Line("requests", n / 1e6, "1M requests", ctx.service("aws.lambda.requests", "Lambda requests"),
                 usage=True),
            Line(f"duration at {gb:g} GB", gb * seconds, "GB-second",
                 ctx.service("aws.lambda.gb-second", "Lambda duration"), usage=True)]


def _endpoint(props, ctx) -> list[Line]:
    if get(props, "vpcEndpointType", "Gateway") == "Gateway":
        return []
    raise Unpriced("interface endpoints are charged per hour and GB; the price book has no verified rate")


PRICERS = {
    "aws:ec2/vpcEndpoint:VpcEndpoint": Pricer(_endpoint, free_when_empty="gateway endpoint: no charge"),
    "aws:secretsmanager/secret:Secret": Pricer(_secret),
    "aws:ecr/repository:Repository": Pricer(_ecr, {"gbStored": Spec(0, "GB of images stored")}),
    "aws:route53/zone:Zone": Pricer(_zone),
    "aws:lambda/function:Function": Pricer(_lambda, {
        "requests": Spec(0, "invocations per month"),
        "averageDurationMs": Spec(0, "average duration of an invocation, ms")}),
}
