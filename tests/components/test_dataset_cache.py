"""DatasetCache (issue 16 part 3): the pure plan and its refusals, the resources per cloud as the engine receives
them (every nested input key declared by the provider SDK), and the price of an FSx cache in the whole bill."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest
from newinfra.components.aws.dataset_cache import DatasetCache as AwsDatasetCache
from newinfra.components.gcp.dataset_cache import DatasetCache as GcpDatasetCache
from newinfra.components.planning import dataset_cache as planning

from newinfra.errors import ComponentInputError
from newinfra.offline import run_callable
from tests.stacks.test_inputs_match_provider_types import checked, unknown_keys

TAGS = {"owner": "ml-platform", "cost-center": "cc-1"}
RESIDENCY = {"internal": ["us-*"], "eu-only": ["eu-*"]}
KEY = "arn:aws:kms:us-east-1:123456789012:key/0b7c3f6e-1d2a-4c3b-9e8f-123456789abc"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"


def plan(**overrides):
    args = {"cloud": "aws", "dataset": "corpus", "size_gb": 40000, "classification": "internal",
            "region": "us-east-1", "bucket_region": "us-east-1", "residency": RESIDENCY, "spec": None}
    return planning.plan_cache(**{**args, **overrides})


# --- the plan -----------------------------------------------------------------------------------------
def test_kind_defaults_by_size_and_by_where_the_bucket_is():
    assert plan()["kind"] == "fsx"  # 40 TB: more than one node's cache, bucket in the cache's region
    assert plan(size_gb=500)["kind"] == "mountpoint"
    assert plan(region="us-east-2")["kind"] == "mountpoint"  # an FSx link would cross regions
    assert plan(cloud="gcp", region="us-central1", bucket_region="us-central1")["kind"] == "gcsfuse"


def test_fsx_is_sized_to_the_dataset_in_persistent_2_steps_with_one_association_per_default():
    assert planning.fsx_capacity_gib(500) == 1200
    assert planning.fsx_capacity_gib(1300) == 2400  # 1300 GB = 1211 GiB
    assert planning.fsx_capacity_gib(40000) == 38400  # 37253 GiB -> 16 steps of 2400
    p = plan()
    assert (p["capacity_gib"], p["throughput_per_tib"]) == (38400, 125)
    assert p["associations"] == [{"path": "/corpus", "prefix": ""}]


def test_a_ninth_association_is_refused_by_name():
    eight = [{"path": f"/p{i}", "prefix": f"p{i}/"} for i in range(8)]
    assert len(plan(spec={"associations": eight})["associations"]) == 8
    with pytest.raises(ComponentInputError) as info:
        plan(spec={"associations": [*eight, {"path": "/p8", "prefix": "p8/"}]})
    assert info.value.property_path == "associations"
    assert "9 data repository associations" in info.value.reason and "at most 8" in info.value.reason


@pytest.mark.parametrize(("links", "path"), [
    ([{"path": "/a"}, {"path": "/a/b", "prefix": "b/"}], "associations[1].path"),  # overlapping paths
    ([{"path": "/a", "prefix": "x/"}, {"path": "/b", "prefix": "x/"}], "associations[1].prefix"),
    ([{"path": "/"}], "associations[0].path"),
    ([{"path": "/a", "prefix": "/x"}], "associations[0].prefix"),
])
def test_bad_associations_name_their_key(links, path):
    with pytest.raises(ComponentInputError) as info:
        plan(spec={"associations": links})
    assert info.value.property_path == path


def test_a_cache_outside_the_datasets_residency_is_refused():
    with pytest.raises(ComponentInputError) as info:
        plan(region="eu-west-1", spec={"kind": "mountpoint"})
    assert info.value.property_path == "region"
    assert "'eu-west-1'" in info.value.reason and "['us-*']" in info.value.reason
    plan(region="eu-west-1", classification="eu-only", spec={"kind": "mountpoint"})  # allowed there
    plan(region="eu-west-1", residency={}, spec={"kind": "mountpoint"})  # no residency map: nothing to obey


@pytest.mark.parametrize(("overrides", "path"), [
    ({"spec": {"kind": "gcsfuse"}}, "kind"),
    ({"region": "us-east-2", "spec": {"kind": "fsx"}}, "kind"),  # an FSx link across regions
    ({"spec": {"throughput_per_tib": 300}}, "throughput_per_tib"),
    ({"spec": {"kind": "mountpoint", "associations": [{"path": "/a"}]}}, "associations"),
    ({"spec": {"kind": "mountpoint", "local_cache_gb": 0}}, "local_cache_gb"),
    ({"cloud": "alicloud", "region": "us-west-1", "bucket_region": "us-west-1"}, "cloud"),
])
def test_bad_settings_name_their_key(overrides, path):
    with pytest.raises(ComponentInputError) as info:
        plan(**overrides)
    assert info.value.property_path == path


def test_mount_options_bound_the_cache_and_read_the_bucket_in_its_own_region():
    p = plan(region="us-east-2", spec={"local_cache_gb": 100, "metadata_ttl_s": 300})
    assert planning.mountpoint_options(p) == [
        "allow-other", "cache /tmp/newinfra-cache-corpus", "max-cache-size 95367", "metadata-ttl 300",
        "read-only", "region us-east-1"]
    g = plan(cloud="gcp", region="us-central1", bucket_region="us-central1", spec={"local_cache_gb": 1})
    assert planning.gcsfuse_options(g) == [
        "file-cache:cache-file-for-range-read:true", "file-cache:max-size-mb:953", "implicit-dirs",
        "metadata-cache:ttl-secs:60"]


# --- the components -----------------------------------------------------------------------------------
def aws_args(**overrides):
    return {"dataset": "corpus", "size_gb": 3000, "classification": "internal", "region": "us-east-1",
            "residency": RESIDENCY, "bucket_name": "corpus-data", "key_arn": KEY, "tags": TAGS,
            "vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16", "subnet_id": "subnet-1", **overrides}


def aws_record(**overrides):
    opts = pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1"))
    return run_callable(lambda: AwsDatasetCache("cache", aws_args(**overrides), opts))


def assert_sdk_keys(record):
    resources = checked(record.resources)
    assert resources
    assert [f for r in resources for f in unknown_keys(r)] == []


def test_aws_fsx_cache_uses_the_datasets_key_and_links_the_bucket():
    record = aws_record(cache={"kind": "fsx", "associations": [{"path": "/text", "prefix": "text/"},
                                                                {"path": "/code", "prefix": "code/"}]})
    assert_sdk_keys(record)
    [fs] = record.of_type("aws:fsx/lustreFileSystem:LustreFileSystem")
    assert fs["inputs"]["kmsKeyId"] == KEY
    assert (fs["inputs"]["deploymentType"], fs["inputs"]["storageCapacity"]) == ("PERSISTENT_2", 4800)
    assert fs["inputs"]["tags"]["newinfra-data-classification"] == "internal"
    links = sorted((r["inputs"]["fileSystemPath"], r["inputs"]["dataRepositoryPath"])
                   for r in record.of_type("aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation"))
    assert links == [("/code", "s3://corpus-data/code/"), ("/text", "s3://corpus-data/text/")]
    ingress = record.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert {r["inputs"]["cidrIpv4"] for r in ingress} == {"10.0.0.0/16"}


def test_aws_mountpoint_cache_is_an_addon_a_scoped_role_and_a_pinned_volume():
    record = aws_record(region="us-east-2", bucket_region="us-east-1", cache={"kind": "mountpoint"},
                        cluster_name="gpu", kubeconfig=KUBECONFIG, namespace="research")
    assert_sdk_keys(record)
    addons = {r["inputs"]["addonName"]: r["inputs"] for r in record.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"aws-mountpoint-s3-csi-driver", "eks-pod-identity-agent"}
    assert addons["aws-mountpoint-s3-csi-driver"]["podIdentityAssociations"][0]["serviceAccount"] == \
        "s3-csi-driver-sa"
    [policy] = record.of_type("aws:iam/rolePolicy:RolePolicy")
    import json

    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    assert {s["Action"] for s in statements} == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt"}
    assert {s["Resource"] for s in statements} == {"arn:aws:s3:::corpus-data", "arn:aws:s3:::corpus-data/*", KEY}
    [pv] = record.of_type("kubernetes:core/v1:PersistentVolume")
    spec = pv["inputs"]["spec"]
    assert spec["csi"]["driver"] == "s3.csi.aws.com" and spec["csi"]["volumeAttributes"] == {"bucketName": "corpus-data"}
    assert "region us-east-1" in spec["mountOptions"] and "cache /tmp/newinfra-cache-corpus" in spec["mountOptions"]
    [term] = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": "topology.kubernetes.io/region", "operator": "In",
                                         "values": ["us-east-2"]}]
    [pvc] = record.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert pvc["inputs"]["metadata"]["namespace"] == "research" and pvc["inputs"]["spec"]["volumeName"] == "corpus-cache"


def test_gcp_gcsfuse_cache_is_a_pinned_volume_with_a_file_cache_and_a_reader_binding():
    opts = pulumi.ResourceOptions(provider=gcp.Provider("usc1", region="us-central1", project="p"))
    record = run_callable(lambda: GcpDatasetCache("cache", {
        "dataset": "tokens", "size_gb": 800, "classification": "internal", "region": "us-central1",
        "residency": RESIDENCY, "bucket_name": "tokens-data", "kubeconfig": KUBECONFIG, "namespace": "ml",
        "cache": {"local_cache_gb": 50}}, opts))
    assert_sdk_keys(record)
    [pv] = record.of_type("kubernetes:core/v1:PersistentVolume")
    spec = pv["inputs"]["spec"]
    assert (spec["csi"]["driver"], spec["csi"]["volumeHandle"]) == ("gcsfuse.csi.storage.gke.io", "tokens-data")
    assert "file-cache:max-size-mb:47683" in spec["mountOptions"]
    assert "file-cache:cache-file-for-range-read:true" in spec["mountOptions"]
    [member] = record.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    assert member["inputs"]["role"] == "roles/storage.objectViewer"
    assert member["inputs"]["member"].endswith(".svc.id.goog/subject/ns/ml/sa/default")


@pytest.mark.parametrize(("overrides", "path"), [
    ({"cache": {"associations": [{"path": f"/p{i}", "prefix": f"p{i}/"} for i in range(9)]}}, "cache.associations"),
    ({"region": "eu-west-1"}, "cache.region"),
    ({"cache": {"kind": "mountpoint"}}, "cluster_name"),
])
def test_bad_input_registers_nothing(overrides, path):
    raised = []

    def body():
        with pytest.raises(ComponentInputError) as info:
            AwsDatasetCache("bad", aws_args(**overrides),
                            pulumi.ResourceOptions(provider=aws.Provider("use1", region="us-east-1")))
        raised.append(info.value)

    record = run_callable(body)
    assert raised[0].property_path == path
    assert [r["type"] for r in record.resources if not r["type"].startswith("pulumi:providers:")] == []


def test_the_whole_bill_prices_an_fsx_cache_at_its_capacity_when_the_book_has_a_dated_row(tmp_path):
    """The reference gives PERSISTENT_2 125 MB/s/TiB only undated (third-party, excluded from the book), so the
    real book lists the cache as unpriced, naming the row it lacks; a book with a dated row prices the cache's
    capacity in GB-month at that row (the row below is a test fixture, not a price fact)."""
    import shutil

    from newinfra.cost_model.pricebook.bill import price_record
    from newinfra.cost_model.pricebook.loader import DATA_DIR, PriceBook

    def lustre(bill):
        [fs] = [p for p in bill.resources if p.type == "aws:fsx/lustreFileSystem:LustreFileSystem"]
        return fs

    record = aws_record(cache={"kind": "fsx"})
    unpriced = lustre(price_record(record))
    assert unpriced.unpriced and "aws.fsx-lustre.persistent2-125" in unpriced.unpriced and not unpriced.lines

    book_dir = tmp_path / "book"
    shutil.copytree(DATA_DIR, book_dir)
    with (book_dir / "services.csv").open("a") as f:
        f.write('aws.fsx-lustre.persistent2-125,aws,us-east-1,GB-month,0.5,USD,2026-01-01,TEST FIXTURE,'
                '"PERSISTENT_2 SSD, 125 MB/s/TiB",test fixture\n')
    fs = lustre(price_record(record, book=PriceBook(book_dir)))
    assert [(line.quantity, line.unit) for line in fs.lines] == [(4800.0, "GB-month")]
    assert fs.monthly_usd == pytest.approx(4800 * 0.5)
    # A tier without any row stays unpriced, never guessed from another tier.
    faster = lustre(price_record(aws_record(cache={"kind": "fsx", "throughput_per_tib": 250}), book=PriceBook(book_dir)))
    assert faster.unpriced and "250 MB/s/TiB" in faster.unpriced
