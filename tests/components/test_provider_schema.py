"""The component provider's schema, generated offline by Pulumi's analyzer, against a committed snapshot.

A changed schema is a changed cross-language API: review the diff, then regenerate with
NEWINFRA_UPDATE_SNAPSHOTS=1 pytest tests/components/test_provider_schema.py
"""

import json
import os
from pathlib import Path

from newinfra.components.__main__ import HOSTED, PROVIDER_NAME
from pulumi.provider.experimental.component import ComponentProvider

SNAPSHOT = Path(__file__).parent / "snapshots" / "provider_schema.json"


def _schema() -> dict:
    provider = ComponentProvider(HOSTED, PROVIDER_NAME)
    assert provider.schema is not None
    return json.loads(provider.schema)


def test_schema_matches_snapshot():
    text = json.dumps(_schema(), indent=2, sort_keys=True) + "\n"
    if os.environ.get("NEWINFRA_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.is_file(), f"{SNAPSHOT} is missing: run with NEWINFRA_UPDATE_SNAPSHOTS=1 once"
    assert text == SNAPSHOT.read_text(), (
        "the component schema changed; review and regenerate with NEWINFRA_UPDATE_SNAPSHOTS=1")


def test_hosted_components_register_under_their_schema_token():
    schema = _schema()
    assert sorted(schema["resources"]) == sorted(f"{PROVIDER_NAME}:index:{c.__name__}" for c in HOSTED)
    for component in HOSTED:
        assert component.TYPE == f"{PROVIDER_NAME}:index:{component.__name__}"


def test_security_inputs_are_required_and_plans_are_plain():
    resources = _schema()["resources"]
    aws = resources["newinfra:index:AwsGpuVmPool"]
    assert {"pool", "tags", "vpcId"} <= set(aws["requiredInputs"])
    # without a key the AWS pool creates its own; subnets come as a list or by zone
    assert {"kmsKeyArn", "subnetIds", "subnetByZone"} <= set(aws["inputProperties"])
    assert {"subnetwork", "tags", "region"} <= set(resources["newinfra:index:GcpGpuVmPool"]["requiredInputs"])
    assert {"vswitchIds", "imageId", "os", "tags"} <= set(
        resources["newinfra:index:AlicloudGpuVmPool"]["requiredInputs"])
    # what the components plan from must be plain, not Outputs
    assert aws["inputProperties"]["pool"]["plain"] is True
    platform = resources["newinfra:index:GpuPlatform"]["inputProperties"]
    assert platform["nodePools"]["plain"] is True and platform["cloud"]["plain"] is True
    assert aws["properties"]["inventory"]["type"] == "object"


def test_a_hosted_component_registers_under_its_schema_token():
    import pulumi
    import pulumi_kubernetes as k8s
    from newinfra.components.__main__ import GpuPlatform

    from newinfra.offline import run_callable

    pool = {"name": "serve", "accelerator": "L4", "accelerators_per_node": 1, "desired_size": 1, "max_size": 2,
            "market": "spot", "labels": {"newinfra.io/accelerator": "L4", "newinfra.io/market": "spot"},
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]}

    def body():
        provider = k8s.Provider("cluster", kubeconfig="apiVersion: v1\nkind: Config\n")
        GpuPlatform("gpu", {"cloud": "gcp", "node_pools": [pool], "teams": [{"name": "web", "gpus": 2}],
                            "workloads": [{"name": "serve", "kind": "inference", "priority": 300}]},
                    pulumi.ResourceOptions(providers=[provider]))

    record = run_callable(body)
    [platform] = record.of_type(f"{PROVIDER_NAME}:index:GpuPlatform")
    assert record.children(platform["urn"])  # the same children as newinfra:k8s:GpuPlatform
