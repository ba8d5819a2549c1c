"""The dataset-cache rules (issue 16): a failing fixture reported on the resource at fault, a passing one clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.builders import provider, res
from tests.policies.test_rules import KEY, KMS_SSE, Case, _run, s3

OTHER_KEY = KEY.replace("0b7c3f6e", "9f9f9f9f")
RESIDENCY = {"newinfra:dataResidency": {"internal": ["us-*"], "public": ["*"]}}
CLASSIFIED = {"tags": {"newinfra-data-classification": "internal"}}
PV = "kubernetes:core/v1:PersistentVolume"
FSX = "aws:fsx/lustreFileSystem:LustreFileSystem"
DRA = "aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation"


def classified_bucket() -> list[dict[str, Any]]:
    bucket, *companions = s3("ds", sse=KMS_SSE)
    bucket["inputs"].update(CLASSIFIED)
    return [bucket, *companions]


def volume(driver: str, regions: list[str] | None, **csi: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"csi": {"driver": driver, "volumeHandle": csi.pop("handle", "vol"), **csi},
                            "accessModes": ["ReadOnlyMany"]}
    if regions is not None:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/region", "operator": "In", "values": regions}]}]}}
    return res(PV, "pv", {"metadata": {"name": "ds-cache"}, "spec": spec}, via=provider("kubernetes"))


def mountpoint(regions: list[str] | None) -> dict[str, Any]:
    return volume("s3.csi.aws.com", regions, volumeAttributes={"bucketName": "ds-bkt"})


def gcs_bucket() -> dict[str, Any]:
    return res("gcp:storage/bucket:Bucket", "g", {"name": "g-data", "location": "US-CENTRAL1",
                                                  "labels": {"newinfra-data-classification": "internal"}})


def lustre(key: str | None) -> dict[str, Any]:
    return res(FSX, "fs", {"storageCapacity": 1200, "deploymentType": "PERSISTENT_2",
                           **({"kmsKeyId": key} if key else {})})


def links(count: int) -> list[dict[str, Any]]:
    return [res(DRA, f"dra-{i}", {"fileSystemId": "fs", "fileSystemPath": f"/p{i}",
                                  "dataRepositoryPath": f"s3://ds-bkt/p{i}/"}) for i in range(count)]


def data_flow(encrypt_type: int) -> list[dict[str, Any]]:
    fs = res("alicloud:nas/fileSystem:FileSystem", "nas", {"fileSystemType": "cpfs", "encryptType": encrypt_type,
                                                           **({"kmsKeyId": "key-hz1"} if encrypt_type == 2 else {})})
    return [fs, res("alicloud:nas/dataFlow:DataFlow", "flow", {"fileSystemId": "nas", "fsetId": "fset-1",
                                                               "sourceStorage": "oss://cn-data", "throughput": 600})]


CASES = [
    Case("dataset-cache-residency", "mountpoint-region", [*classified_bucket(), mountpoint(["eu-west-1"])],
         [*classified_bucket(), mountpoint(["us-east-2"])], {"pv"}, config=RESIDENCY),
    Case("dataset-cache-residency", "gcsfuse-unpinned",
         [gcs_bucket(), volume("gcsfuse.csi.storage.gke.io", None, handle="g-data")],
         [gcs_bucket(), volume("gcsfuse.csi.storage.gke.io", ["us-central1"], handle="g-data")], {"pv"},
         config=RESIDENCY),
    Case("dataset-cache-encryption", "fsx-other-key", [*classified_bucket(), lustre(OTHER_KEY), *links(1)],
         [*classified_bucket(), lustre(KEY), *links(1)], {"fs"}),
    Case("dataset-cache-encryption", "fsx-no-key", [*classified_bucket(), lustre(None), *links(1)],
         [*classified_bucket(), lustre(KEY), *links(1)], {"fs"}),
    Case("dataset-cache-encryption", "nas-data-flow", data_flow(1), data_flow(2), {"nas"}),
    Case("fsx-association-limit", "nine", [lustre(KEY), *links(9)], [lustre(KEY), *links(8)], {"fs"}),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}-{c.id}" for c in CASES])
def test_failing_fixture_is_reported_on_the_resource(case: Case) -> None:
    ev = _run(case, case.failing)
    assert {v.resource for v in ev.violations if v.policy == case.policy} == case.flagged, \
        [v.message for v in ev.violations if v.policy == case.policy]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.policy}-{c.id}" for c in CASES])
def test_passing_fixture_is_clean(case: Case) -> None:
    ev = _run(case, case.passing)
    assert [v.message for v in ev.violations if v.policy == case.policy] == []


def test_messages_name_the_fault() -> None:
    ev = _run(CASES[0], CASES[0].failing)
    [message] = [v.message for v in ev.violations if v.policy == "dataset-cache-residency"]
    assert "'internal' data in ['eu-west-1']" in message and "['us-*']" in message
    ev = _run(CASES[-1], CASES[-1].failing)
    [message] = [v.message for v in ev.violations if v.policy == "fsx-association-limit"]
    assert "9 data repository associations" in message and "['dra-8']" in message
