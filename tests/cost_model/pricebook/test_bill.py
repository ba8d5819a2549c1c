"""The whole bill of five small programs, each within 2% of a hand calculation from the price book rows.

Rows cited as file:line of cost_model/pricebook/data/ (services.csv keys, instances.csv types).
"""

from __future__ import annotations

import pytest
from newinfra.cost_model.pricebook.bill import price_record
from newinfra.cost_model.pricebook.usage import Usage

from newinfra.offline import run_callable

HOURS = 730


def close(got: float, want: float) -> None:
    assert abs(got - want) <= 0.02 * want, (got, want)


def aws_opts():
    import pulumi
    import pulumi_aws as aws

    return pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1"))


def bill_of(body, usage: dict | None = None):
    record = run_callable(body)
    return price_record(record, Usage(usage or {}, "test-usage.yaml"))


def test_t3_micro_web_server():
    def program():
        import pulumi_aws as aws

        aws.ec2.Instance("web", instance_type="t3.micro", ami="ami-0abcdef1234567890", opts=aws_opts())

    bill = bill_of(program)
    # instances.csv: aws,us-east-1,t3.micro,0.0104 (anycloud-sh/catalog aws/vms.csv, 2026-04-01)
    close(bill.monthly_usd, 0.0104 * HOURS)  # $7.59
    assert bill.max_monthly_usd == bill.monthly_usd
    assert not bill.unpriced and bill.price_date == "2026-04-01"


def test_eks_cluster_with_managed_node_group():
    def program():
        import pulumi_aws as aws

        opts = aws_opts()
        cluster = aws.eks.Cluster("ml", role_arn="arn:aws:iam::123456789012:role/eks",
                                  vpc_config={"subnet_ids": ["subnet-1", "subnet-2"]}, opts=opts)
        aws.eks.NodeGroup("ml-nodes", cluster_name=cluster.name, node_role_arn="arn:aws:iam::123456789012:role/n",
                          subnet_ids=["subnet-1"], instance_types=["m5.large"],
                          scaling_config={"min_size": 1, "desired_size": 2, "max_size": 3}, opts=opts)

    bill = bill_of(program)
    eks_fee = 0.10 * HOURS  # services.csv aws.eks.cluster: $0.10 per cluster-hour (infracost golden)
    node = 0.096 * HOURS  # instances.csv: aws,us-east-1,m5.large,0.096
    close(bill.monthly_usd, eks_fee + 2 * node)  # $213.16
    close(bill.max_monthly_usd, eks_fee + 3 * node)  # $283.24
    assert not bill.unpriced


def test_gke_cluster_with_its_default_pool():
    def program():
        import pulumi
        import pulumi_gcp as gcp

        provider = gcp.Provider("gcp", project="p", region="us-central1")
        gcp.container.Cluster("gke", location="us-central1-a", initial_node_count=3,
                              node_config={"machine_type": "n1-standard-1"},
                              opts=pulumi.ResourceOptions(provider=provider))

    bill = bill_of(program)
    fee = 0.10 * HOURS  # services.csv gcp.gke.cluster: $0.10 per cluster-hour
    nodes = 3 * 0.0475 * HOURS  # instances.csv: gcp,us-central1,n1-standard-1,0.0475
    close(bill.monthly_usd, fee + nodes)  # $177.03
    assert [line.unit for line in bill.priced[0].lines] == ["cluster-hour", "node-hour"]


def test_nat_gateway_with_one_terabyte_processed():
    def program():
        import pulumi_aws as aws

        aws.ec2.NatGateway("nat", subnet_id="subnet-1", connectivity_type="private", opts=aws_opts())

    bill = bill_of(program, {"nat": {"gbProcessed": 1000}})
    # services.csv aws.nat.hour $0.045/gateway-hour and aws.nat.gb $0.045/GB (infracost golden)
    close(bill.monthly_usd, 0.045 * HOURS + 0.045 * 1000)  # $77.85
    assert bill.priced[0].usage_based


def test_s3_bucket_with_five_terabytes():
    def program():
        import pulumi_aws as aws

        aws.s3.BucketV2("data", opts=aws_opts())

    bill = bill_of(program, {"aws:s3/bucketV2:BucketV2": {"gbStored": 5000}})
    close(bill.monthly_usd, 0.023 * 5000)  # services.csv aws.s3.standard $0.023/GB-month: $115.00
    assert bill.to_dict()["coverage"]["usageBased"] == 1


def test_a_missing_price_is_unpriced_never_zero():
    def program():
        import pulumi_aws as aws

        opts = aws_opts()
        aws.ec2.Instance("odd", instance_type="x9.unknown", ami="ami-1", opts=opts)
        aws.rds.Instance("db", instance_class="db.t3.micro", engine="postgres", allocated_storage=20, opts=opts)

    bill = bill_of(program)
    assert bill.monthly_usd == 0 and not bill.priced
    reasons = bill.to_dict()["unpricedReasons"]
    assert sorted(u.rsplit("::", 1)[1] for u in reasons) == ["db", "odd"]
    assert any("x9.unknown" in why for why in reasons.values())


@pytest.mark.parametrize("region,assumed", [("us-east-1", ""), ("eu-west-1", "us-east-1 list price used for eu-west-1")])
def test_a_row_of_another_region_says_so(region, assumed):
    from newinfra.cost_model.pricebook import load_pricebook

    price = load_pricebook().service("aws.nat.hour", "aws", region)
    assert price.usd == 0.045 and price.assumption == assumed and price.as_of and price.source
