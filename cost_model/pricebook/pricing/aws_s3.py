"""AWS S3 buckets: Standard storage and requests, from the usage file."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

USAGE = {"gbStored": Spec(0, "GB stored (Standard class), monthly average"),
         "putRequests": Spec(0, "PUT/COPY/POST/LIST requests per month"),
         "getRequests": Spec(0, "GET/SELECT and other requests per month")}


def _bucket(props, ctx) -> list[Line]:
    u = ctx.usage
    return [
        Line(f"Standard storage {u['gbStored']:g} GB", u["gbStored"], "GB-month",
             ctx.service("aws.s3.standard", "S3 Standard storage"), usage=True),
        Line("PUT/COPY/POST/LIST requests", u["putRequests"] / 1000, "1,000 requests",
             ctx.service("aws.s3.put", "S3 PUT requests"), usage=True),
        Line("GET/SELECT requests", u["getRequests"] / 1000, "1,000 requests",
             ctx.service("aws.s3.get", "S3 GET requests"), usage=True),
    ]


PRICERS = {
    "aws:s3/bucket:Bucket": Pricer(_bucket, USAGE),
    "aws:s3/bucketV2:BucketV2": Pricer(_bucket, USAGE),
}
