"""Live AWS data: offerings from moto (real offering data), spot prices and quotas through Stubber."""

from __future__ import annotations

import datetime as dt
import warnings

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from newinfra.cost_model.catalog import StaleCatalogWarning, load_catalog
from newinfra.cost_model.catalog.live import (
    LiveData,
    LiveDataError,
    gpu_quotas,
    live_overrides,
    spot_prices,
    zone_offerings,
)
from newinfra.cost_model.catalog.quota import AWS_QUOTA_CODES

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StaleCatalogWarning)
    CAT = load_catalog()


@pytest.fixture
def aws_env(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)


def test_zone_offerings_from_moto(aws_env):
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        found = zone_offerings(ec2, ["p5.48xlarge", "g5.xlarge", "no-such.type"])
    assert ("use1-az1", "p5.48xlarge") in found and ("use1-az6", "g5.xlarge") in found
    assert all(z.startswith("use1-az") for z, _ in found)
    assert {t for _, t in found} == {"p5.48xlarge", "g5.xlarge"}


def test_spot_prices_keep_the_latest_per_zone_id():
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    history = [
        {"AvailabilityZone": "us-east-1a", "InstanceType": "p5.48xlarge", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "40.1", "Timestamp": NOW - dt.timedelta(hours=2)},
        {"AvailabilityZone": "us-east-1a", "InstanceType": "p5.48xlarge", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "41.5", "Timestamp": NOW - dt.timedelta(hours=1)},
        {"AvailabilityZone": "us-east-1z", "InstanceType": "p5.48xlarge", "ProductDescription": "Linux/UNIX",
         "SpotPrice": "1.0", "Timestamp": NOW},  # a zone this account does not see
    ]
    expected = {"InstanceTypes": ["p5.48xlarge"], "ProductDescriptions": ["Linux/UNIX"], "StartTime": NOW}
    with Stubber(ec2) as stub:
        stub.add_response("describe_spot_price_history", {"SpotPriceHistory": history[:1], "NextToken": "t"},
                          expected)
        stub.add_response("describe_spot_price_history", {"SpotPriceHistory": history[1:], "NextToken": ""},
                          {**expected, "NextToken": "t"})
        prices = spot_prices(ec2, ["p5.48xlarge"], now=NOW, names_to_ids={"us-east-1a": "use1-az6"})
        stub.assert_no_pending_responses()
    assert prices == {("use1-az6", "p5.48xlarge"): 41.5}


def test_gpu_quotas_read_every_class_and_market():
    sq = boto3.client("service-quotas", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sq) as stub:
        for (family, market), code in sorted(AWS_QUOTA_CODES.items()):
            value = 192.0 if (family, market) == ("P", "on-demand") else 0.0
            stub.add_response("get_service_quota", {"Quota": {"QuotaCode": code, "Value": value}},
                              {"ServiceCode": "ec2", "QuotaCode": code})
        quotas = gpu_quotas(sq, "us-east-1")
    by_key = {(q.family, q.market): q.limit for q in quotas}
    assert by_key[("P", "on-demand")] == 192.0 and by_key[("G", "spot")] == 0.0 and len(quotas) == 12
    assert {q.cloud for q in quotas} == {"aws"} and {q.region for q in quotas} == {"us-east-1"}


def test_apply_drops_unoffered_and_takes_plausible_spot():
    p5 = [o for o in CAT.offers if o.instance_type == "p5.48xlarge" and o.region == "us-east-1"]
    a, b, c = p5[:3]
    live = LiveData(("us-east-1",), frozenset({(a.region, a.zone, a.instance_type), (b.region, b.zone, b.instance_type)}),
                    {(a.region, a.zone, a.instance_type): 30.0, (b.region, b.zone, b.instance_type): 0.5})
    gcp = next(o for o in CAT.offers if o.cloud == "gcp")
    out = live.apply([a, b, c, gcp])
    assert [o.zone for o in out if o.cloud == "aws"] == [a.zone, b.zone]  # c is not offered now
    assert out[0].spot_usd == 30.0 and out[0].source == "aws+live"
    assert out[1].spot_usd == b.spot_usd  # 0.5 is below the plausibility floor: catalog value kept
    assert gcp in out


def test_live_overrides_end_to_end(aws_env):
    """moto answers offerings; its spot history and quotas are not real, so those go through Stubber."""
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        real_client = session.client

        def client(name, **kw):
            c = real_client(name, **kw)
            if name == "service-quotas":
                stub = Stubber(c)
                for code in sorted(set(AWS_QUOTA_CODES.values())):
                    stub.add_response("get_service_quota", {"Quota": {"QuotaCode": code, "Value": 96.0}})
                stub.activate()
            return c

        session.client = client
        live = live_overrides(["us-east-1"], catalog=CAT, session=session, now=NOW)
    assert live.regions == ("us-east-1",)
    assert any(t == "p5.48xlarge" for _, _, t in live.offered)
    assert len(live.quotas) == 12 and all(q.limit == 96.0 for q in live.quotas)
    derived = live.catalog(CAT)
    assert derived.version.endswith("+live")
    assert all((o.region, o.zone, o.instance_type) in live.offered
               for o in derived.offers if o.cloud == "aws" and o.region == "us-east-1")


def test_live_failure_names_region_and_call():
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    real_client = session.client

    def client(name, **kw):
        c = real_client(name, **kw)
        stub = Stubber(c)
        stub.add_client_error("describe_instance_type_offerings", "UnauthorizedOperation", "not allowed")
        stub.activate()
        return c

    session.client = client
    with pytest.raises(LiveDataError, match=r"ec2:DescribeInstanceTypeOfferings in us-east-1 failed: .*UnauthorizedOperation"):
        live_overrides(["us-east-1"], catalog=CAT, session=session, now=NOW)
