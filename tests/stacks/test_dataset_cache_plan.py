"""Issue 16 part 3 in the reference stacks: prod reads its training corpus through DatasetCache (Mountpoint for S3
next to the GPUs, which the lock puts in another region than the bucket), dev's FSx cache links its dataset, and
a bad `cache` (a ninth association, a region outside the dataset's residency, a cloud without a cache) is one
line naming the key, exit 2, nothing written."""

from __future__ import annotations

import pytest
import yaml
from newinfra.policies.packs import pack
from newinfra.policies.runner import evaluate

from newinfra.offline import run_program
from tests.paths import REPO_ROOT
from tests.stacks.test_bad_inputs import DEV_TEXT, assert_one_line, cli, cli_error, make_project

CACHE_RULES = {"dataset-cache-residency", "dataset-cache-encryption", "fsx-association-limit"}


@pytest.fixture(scope="module")
def prod():
    return run_program(REPO_ROOT, "prod")


def test_prod_reads_its_corpus_through_a_mountpoint_cache_next_to_its_gpus(prod):
    [cache] = prod.outputs["datasetCaches"]
    gpu_regions = {g["region"] for g in prod.outputs["nodeGroups"] if g["pool"].startswith("pretrain")}
    assert cache["dataset"] == "corpus" and cache["kind"] == "mountpoint" and {cache["region"]} == gpu_regions
    [pv] = prod.of_type("kubernetes:core/v1:PersistentVolume")
    spec = pv["inputs"]["spec"]
    [bucket] = [b for b in prod.outputs["buckets"] if b["dataset"] == "corpus"]
    assert spec["csi"]["volumeAttributes"]["bucketName"] == bucket["name"]
    assert f"region {bucket['region']}" in spec["mountOptions"]  # the bucket's region, not the cache's
    [term] = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term["matchExpressions"][0]["values"] == [cache["region"]]
    assert pv["inputs"]["metadata"]["labels"]["newinfra-data-classification"] == "internal"
    [pvc] = prod.of_type("kubernetes:core/v1:PersistentVolumeClaim")
    assert pvc["inputs"]["metadata"]["namespace"] == "research"  # pretrain's team
    assert not prod.of_type("aws:fsx/lustreFileSystem:LustreFileSystem")  # one copy, not an FSx beside it
    # The cache rules pass on the plan.
    ev = evaluate(prod.resources, prod.config, project="newinfra", stack="prod", environment="prod",
                  selected=[pack("data_security")])
    assert [v.message for v in ev.violations if v.policy in CACHE_RULES] == []


def program_project(root, stack_text: str):
    """make_project plus this project's program (stacks/*.py), so the program's own checks run."""
    import shutil

    make_project(root, stack_text)
    for source in (REPO_ROOT / "stacks").rglob("*.py"):
        target = root / "stacks" / source.relative_to(REPO_ROOT / "stacks")
        if "examples" not in target.parts:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return root


def _dev_with_cache(cache: str) -> str:
    assert "      sharedFileSystem: true\n" in DEV_TEXT
    return DEV_TEXT.replace("      sharedFileSystem: true\n", f"      sharedFileSystem: true\n      cache: {cache}\n", 1)


def test_dev_fsx_cache_links_its_dataset_under_the_datasets_key(tmp_path):
    record = run_program(program_project(tmp_path, _dev_with_cache(
        "{kind: fsx, associations: [{path: /shards, prefix: shards/}, {path: /eval, prefix: eval/}]}")), "dev")
    [fs] = record.of_type("aws:fsx/lustreFileSystem:LustreFileSystem")
    assert fs["name"].endswith("web-tokens-cache-lustre") and fs["inputs"]["storageCapacity"] == 2400
    [key] = [k for k in record.of_type("aws:kms/key:Key") if k["name"].endswith("web-tokens-key")]
    assert fs["inputs"]["kmsKeyId"].startswith("arn:aws:kms:") and key
    links = record.of_type("aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation")
    assert sorted(link["inputs"]["fileSystemPath"] for link in links) == ["/eval", "/shards"]
    ev = evaluate(record.resources, record.config, project="newinfra", stack="dev", environment="dev",
                  selected=[pack("data_security")])
    assert [v.message for v in ev.violations if v.policy in CACHE_RULES] == []


NINE = "[" + ", ".join(f"{{path: /p{i}, prefix: p{i}/}}" for i in range(9)) + "]"


@pytest.mark.parametrize(("cache", "key", "fragment"), [
    (f"{{kind: fsx, associations: {NINE}}}", "datasets[0].cache.associations", "at most 8"),
    ("{kind: mountpoint, region: eu-west-1}", "datasets[0].cache.region", "'eu-west-1'"),
    ("{kind: gcsfuse}", "datasets[0].cache.kind", "'gcsfuse'"),
])
def test_bad_cache_exits_2_naming_the_key_and_writes_nothing(tmp_path, monkeypatch, cache, key, fragment):
    program_project(tmp_path, _dev_with_cache(cache))
    out = tmp_path / "out"
    result = cli(tmp_path, monkeypatch, "plan", "dev", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert_one_line(cli_error(result.output), key, fragment)
    assert not out.exists()


def test_alibaba_has_no_cache_and_says_so():
    from newinfra.config import ConfigError, parse_config

    doc = yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    [clicks] = [d for d in doc["config"]["newinfra:datasets"] if d["name"] == "cn-clicks"]
    clicks["cache"] = {}
    raw = {k.split(":", 1)[1]: v for k, v in doc["config"].items() if k.startswith("newinfra:")}
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "Pulumi.prod.yaml")
    assert_one_line(str(err.value), "Pulumi.prod.yaml", "datasets[1].cache.kind", "'alicloud' has no dataset cache")


def test_the_program_places_a_cache_next_to_its_readers_or_not_at_all():
    """The config allows the region; only the placement shows whether GPUs read the dataset there."""
    from newinfra.config import ConfigError, parse_config
    from newinfra.placement import Placement
    from stacks.program import plan_caches

    doc = yaml.safe_load(DEV_TEXT)
    doc["config"]["newinfra:dataResidency"]["internal"] = ["us-*"]
    doc["config"]["newinfra:datasets"][0]["cache"] = {"kind": "mountpoint", "region": "us-west-2"}
    raw = {k.split(":", 1)[1]: v for k, v in doc["config"].items() if k.startswith("newinfra:")}
    cfg = parse_config(raw, "Pulumi.dev.yaml")
    reader = next(w for w in cfg.workloads if w.dataset == cfg.datasets[0].name)
    placement = Placement(workload=reader.name, cloud="aws", region="us-east-1", zones=("use1-az4",),
                          instance_type="p5.48xlarge", accelerator="H100", accelerators_per_node=8, nodes=2,
                          min_nodes=0, max_nodes=2)
    with pytest.raises(ConfigError) as err:
        plan_caches(cfg, (placement,))
    assert_one_line(str(err.value), "datasets[0].cache.region", "'us-west-2' has no GPUs of this stack",
                    "['us-east-1']")
    assert plan_caches(cfg, ()) == {}  # its readers left out: no cache, nothing to sit next to
