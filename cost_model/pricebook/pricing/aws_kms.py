"""AWS KMS: a customer managed key per month (requests are usage)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec


def _key(props, ctx) -> list[Line]:
    return [Line("customer managed key", 1, "key-month", ctx.service("aws.kms.key", "a KMS key")),
            Line("symmetric requests", ctx.usage["requests"] / 10_000, "10,000 requests",
                 ctx.service("aws.kms.symmetric-requests", "KMS requests"), usage=True)]


PRICERS = {"aws:kms/key:Key": Pricer(_key, {"requests": Spec(0, "symmetric API requests per month")})}
