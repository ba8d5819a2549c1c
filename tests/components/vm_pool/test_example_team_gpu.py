"""The example team program (stacks/examples/team-gpu) runs offline and records what it builds."""

from pathlib import Path

from newinfra.components.planning.names import physical_name

from newinfra.offline import run_program

EXAMPLE = Path(__file__).resolve().parents[3] / "stacks" / "examples" / "team-gpu"


def test_example_team_program_plans_offline():
    record = run_program(EXAMPLE, "dev")
    types = {r["type"] for r in record.resources}
    assert {"newinfra:aws:Network", "newinfra:aws:GpuVmPool", "newinfra:k8s:GpuPlatform",
            "aws:autoscaling/group:Group", "kubernetes:helm.sh/v3:Release"} <= types
    # cost tags from the stack config reach the fleet's hosts
    group = record.of_type("aws:autoscaling/group:Group")[0]["inputs"]
    assert {t["key"]: t["value"] for t in group["tags"]}["cost-center"] == "cc-1234"
    # every AWS resource goes through the program's explicit provider, every Kubernetes one through the cluster's
    for resource in record.resources:
        if resource["custom"] and resource["type"].startswith("aws:"):
            assert "::aws-us-east-1::" in resource["provider"]
        if resource["custom"] and resource["type"].startswith("kubernetes:"):
            assert "::vision-eks::" in resource["provider"]
    [inventory] = record.outputs["gpuVmPools"]
    # the scaling group's physical name: project team-gpu, stack dev (a "-" in the project: hashed)
    assert inventory["group"] == {"kind": "aws-asg", "region": "us-east-1",
                                  "name": physical_name("aws:autoscaling:group", "team-gpu", "dev", "pretrain")}
    assert group["name"] == inventory["group"]["name"]
    assert record.outputs["priorityClasses"] == {"serve": "newinfra-default"}
