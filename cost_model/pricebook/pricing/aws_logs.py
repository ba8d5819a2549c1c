"""AWS logs: CloudWatch log groups (GB ingested and stored) and VPC flow logs delivered to S3 (usage)."""

from __future__ import annotations

from newinfra.cost_model.pricebook.bill import Line
from newinfra.cost_model.pricebook.pricing import Pricer
from newinfra.cost_model.pricebook.usage import Spec

from newinfra.props import get


def _log_group(props, ctx) -> list[Line]:
    gb, stored = ctx.usage["gbIngested"], ctx.usage["gbStored"]
    return [Line(f"ingested {gb:g} GB", gb, "GB", ctx.service("aws.logs.ingest", "log ingestion"), usage=True),
            Line(f"stored {stored:g} GB", stored, "GB-month", ctx.service("aws.logs.storage", "log storage"),
                 usage=True)]


def _flow_log(props, ctx) -> list[Line]:
    gb = ctx.usage["gbDelivered"]
    if get(props, "logDestinationType", "cloud-watch-logs") != "s3":
        # delivered to CloudWatch Logs: the log group's ingestion line prices it
        return []
    return [Line(f"vended logs to S3 {gb:g} GB", gb, "GB", ctx.service("aws.flowlogs.s3", "flow log delivery"),
                 usage=True)]


PRICERS = {
    "aws:cloudwatch/logGroup:LogGroup": Pricer(_log_group, {
        "gbIngested": Spec(0, "GB ingested per month (Standard class)"),
        "gbStored": Spec(0, "GB kept, monthly average")}),
    "aws:ec2/flowLog:FlowLog": Pricer(_flow_log, {"gbDelivered": Spec(0, "GB of flow logs delivered per month")},
                                      free_when_empty="delivered to CloudWatch Logs: priced on the log group"),
}
