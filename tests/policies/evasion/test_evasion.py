"""Programs written to slip past the packs: split CIDRs, IPv6 spellings, host bits, bucket policies on
buckets the stack does not create, stacks that loosen the platform's settings. Each must be caught."""

from __future__ import annotations

import json

import pytest
from newinfra.policies.config import PolicyConfigError

from newinfra.cidrs import judge, limit_of
from tests.policies.builders import check, flagged, res

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
FW = "gcp:compute/firewall:Firewall"
EKS = "aws:eks/cluster:Cluster"


@pytest.mark.parametrize("cidrs", [
    ["0.0.0.0/0"], ["0::/0"], ["::/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["1.2.3.4/0"], ["0000:0000::/0"],
    [" 0.0.0.0/0 "], ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], ["8.0.0.0/7"],
])
def test_open_spellings_are_open(cidrs):
    assert judge(cidrs).open


@pytest.mark.parametrize("cidrs", [["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], ["203.0.113.7/32"],
                                   ["198.51.100.0/24"], ["fd00::/8"], ["2001:db8::/32"], []])
def test_private_and_narrow_ranges_are_not_open(cidrs):
    assert not judge(cidrs).open


def test_limit_is_a_setting_and_invalid_limits_are_refused():
    assert judge(["35.235.240.0/20"]).open is False  # Google IAP's range: within the default /20
    assert judge(["8.8.8.0/24"], {"ipv4": 28}).open is True
    with pytest.raises(ValueError, match="ipv4"):
        limit_of({"ipv4": 40})


def _ingress(cidrs):
    return res(SG, "web", {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": cidrs}]})


@pytest.mark.parametrize("cidrs", [["0.0.0.0/1", "128.0.0.0/1"], ["1.2.3.4/0"]])
def test_split_or_host_bit_ingress_is_caught_with_port_and_cidr(cidrs):
    ev = check([_ingress(cidrs)], packs=("data_security",))
    messages = [v.message for v in ev.violations if v.policy == "no-internet-ingress"]
    assert messages and "port 22/tcp from" in messages[0] and cidrs[0] in messages[0]
    assert "all of public IPv4" in messages[0] and "restrict" in messages[0]


def test_ipv6_spelling_in_a_rule_resource_is_caught():
    r = res(SG_RULE, "v6", {"type": "ingress", "fromPort": 443, "toPort": 443, "protocol": "tcp",
                            "ipv6CidrBlocks": ["0000::/0"]})
    assert "v6" in flagged(check([r], packs=("data_security",)), "no-internet-ingress")


def test_gcp_firewall_split_ranges_are_caught():
    r = res(FW, "fw", {"allows": [{"protocol": "tcp", "ports": ["22"]}],
                       "sourceRanges": ["0.0.0.0/1", "128.0.0.0/1"]})
    assert "fw" in flagged(check([r], packs=("data_security",)), "no-internet-ingress")


def test_invalid_public_cidr_limit_is_a_config_error():
    with pytest.raises(PolicyConfigError, match="publicCidrLimit"):
        check([_ingress(["10.0.0.0/8"])], packs=("data_security",),
              policy_config={"no-internet-ingress": {"publicCidrLimit": {"ipv4": 33}}})


def test_eks_public_endpoint_split_cidrs_are_caught():
    r = res(EKS, "eks", {"vpcConfig": {"endpointPrivateAccess": True,
                                       "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}})
    assert "eks" in flagged(check([r], packs=("data_security",)), "kubernetes-private-control-plane")


PUBLIC_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::someone-elses-bucket/*"}]})


def test_bucket_policy_on_an_unmanaged_bucket_by_arn_is_caught():
    r = res("aws:s3/bucketPolicy:BucketPolicy", "pol", {"bucket": "arn:aws:s3:::someone-elses-bucket",
                                                         "policy": PUBLIC_POLICY})
    ev = check([r], packs=("data_security",))
    msgs = [v.message for v in ev.violations if v.policy == "bucket-no-public-access"]
    assert msgs and "someone-elses-bucket" in msgs[0] and "not created by this stack" in msgs[0]
    assert "Principal '*'" in msgs[0]


def test_bucket_policy_with_aws_star_principal_is_caught_and_conditioned_one_is_not():
    doc = json.loads(PUBLIC_POLICY)
    doc["Statement"][0]["Principal"] = {"AWS": ["*"]}
    bad = res("aws:s3/bucketPolicy:BucketPolicy", "bad", {"bucket": "b", "policy": json.dumps(doc)})
    doc["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceVpce": "vpce-1"}}
    ok = res("aws:s3/bucketPolicy:BucketPolicy", "ok", {"bucket": "b", "policy": json.dumps(doc)})
    found = flagged(check([bad, ok], packs=("data_security",)), "bucket-no-public-access")
    assert "bad" in found and "ok" not in found


def test_stack_cannot_loosen_its_environment():
    # stack prod declaring dev would make the budget advisory
    from newinfra.policies.runner import evaluate

    with pytest.raises(PolicyConfigError, match="newinfra:environment"):
        evaluate([], {"newinfra:environment": "dev"}, project="p", stack="prod")
    ev = evaluate([], {"newinfra:environment": "prod"}, project="p", stack="dev")  # tightening is fine
    assert ev.environment == "prod"


def test_platform_maps_free_stack_names():
    from newinfra.policies.runner import evaluate

    cfg = {"newinfra": {"environments": {"prod-*": "production", "sandbox": "development"}}}
    assert evaluate([], {}, project="p", stack="prod-eu", policy_config=cfg).levels["newinfra-budget"][
        "monthly-budget"] == "mandatory"
    assert evaluate([], {}, project="p", stack="sandbox", policy_config=cfg).levels["newinfra-budget"][
        "monthly-budget"] == "advisory"
    with pytest.raises(PolicyConfigError, match="newinfra:environment"):
        evaluate([], {"newinfra:environment": "dev"}, project="p", stack="prod-eu", policy_config=cfg)


def test_stack_cannot_widen_platform_residency():
    from newinfra.policies.runner import evaluate

    platform = {"data-residency": {"residency": {"restricted": ["eu-*"]}}}
    with pytest.raises(PolicyConfigError, match="dataResidency.restricted"):
        evaluate([], {"newinfra:dataResidency": {"restricted": ["*"]}}, project="p", stack="dev",
                 policy_config=platform)
    evaluate([], {"newinfra:dataResidency": {"restricted": ["eu-west-1"]}}, project="p", stack="dev",
             policy_config=platform)


def test_unknown_rule_name_suggests_the_near_one():
    from newinfra.policies.runner import evaluate

    with pytest.raises(PolicyConfigError, match="did you mean 'monthly-budget'|did you mean monthly-budget"):
        evaluate([], {}, project="p", stack="dev", policy_config={"monthly-budgte": "advisory"})


def test_unclassified_data_is_judged_as_the_strictest_classification():
    bucket = res("aws:s3/bucket:Bucket", "raw", {"bucket": "raw"})  # us-east-1 by provider, no tag
    cfg = {"newinfra:dataResidency": {"internal": ["us-*"], "restricted": ["eu-*"]}}
    ev = check([bucket], packs=("data_security",), config=cfg)
    msgs = [v.message for v in ev.violations if v.policy == "data-residency"]
    assert msgs and "strictest" in msgs[0] and "restricted" in msgs[0]


def test_public_ip_rule_keeps_to_gpu_hosts():
    web = res("aws:ec2/instance:Instance", "web", {"instanceType": "t3.micro", "associatePublicIpAddress": True})
    gpu = res("aws:ec2/instance:Instance", "gpu", {"instanceType": "p5.48xlarge", "associatePublicIpAddress": True})
    found = flagged(check([web, gpu], packs=("data_security",)), "no-public-node-ips")
    assert "gpu" in found and "web" not in found


def test_eks_node_group_without_launch_template_is_judged():
    ng = res("aws:eks/nodeGroup:NodeGroup", "ng", {"instanceTypes": ["p5.48xlarge"], "diskSize": 100})
    ev = check([ng], packs=("data_security",))
    assert "ng" in flagged(ev, "node-disk-encryption") and "ng" in flagged(ev, "hardened-instance-metadata")


def test_gke_default_pool_and_auto_mode_network_are_judged():
    gke = res("gcp:container/cluster:Cluster", "gke", {"location": "us-central1"})
    net = res("gcp:compute/network:Network", "net", {})
    ev = check([gke, net], packs=("data_security",))
    assert "gke" in flagged(ev, "hardened-instance-metadata") and "gke" in flagged(ev, "gke-shielded-nodes")
    assert "net" in flagged(ev, "vpc-flow-logs")


def test_inline_s3_encryption_and_versioning_count():
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    b = res("aws:s3/bucket:Bucket", "inl", {"bucket": "inl", "versioning": {"enabled": True},
                                           "logging": {"targetBucket": "logs"},
                                           "serverSideEncryptionConfiguration": {"rule": {
                                               "applyServerSideEncryptionByDefault": {
                                                   "sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}}}})
    ev = check([b], packs=("data_security",))
    assert "inl" not in flagged(ev, "bucket-customer-managed-encryption")
    assert "inl" not in flagged(ev, "bucket-versioning-and-access-logs")


def test_public_website_bucket_is_exempt_and_shown():
    site = res("aws:s3/bucket:Bucket", "site", {"bucket": "site", "tags": {"newinfra-exemption": "public-website"},
                                               "website": {"indexDocument": "index.html"}})
    ev = check([site], packs=("data_security",))
    assert "site" not in flagged(ev, "bucket-customer-managed-encryption")
    assert any(p == "bucket-customer-managed-encryption" and r == "site" and "public website" in why
               for _pk, p, r, why in ev.exemptions)
    # the platform can withdraw the exemption; a claim without a website is no exemption
    ev = check([site], packs=("data_security",),
               policy_config={"bucket-customer-managed-encryption": {"allowedExemptions": []}})
    assert "site" in flagged(ev, "bucket-customer-managed-encryption")
    fake = res("aws:s3/bucket:Bucket", "fake", {"bucket": "fake", "tags": {"newinfra-exemption": "public-website"}})
    assert "fake" in flagged(check([fake], packs=("data_security",)), "bucket-customer-managed-encryption")
