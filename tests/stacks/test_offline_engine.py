"""The offline engine behaves like the engine where a reviewer would notice the difference."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from newinfra.offline import OfflineError, dumps, run_callable, run_program
from newinfra.offline.engine import read_stack_config


def test_duplicate_urn_is_refused():
    def body():
        aws.kms.Key("same")
        aws.kms.Key("same")

    with pytest.raises(OfflineError, match="duplicate resource URN"):
        run_callable(body)


def test_top_level_urns_have_no_stack_prefix_and_children_are_qualified():
    class Box(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("test:index:Box", name)
            aws.kms.Key(f"{name}-key", opts=pulumi.ResourceOptions(parent=self))

    record = run_callable(lambda: Box("b"))
    urns = {r["name"]: r["urn"] for r in record.resources}
    assert urns["b"] == "urn:pulumi:test::test::test:index:Box::b"
    assert urns["b-key"] == "urn:pulumi:test::test::test:index:Box$aws:kms/key:Key::b-key"
    child = next(r for r in record.resources if r["name"] == "b-key")
    assert child["parent"] == urns["b"]


def test_unanswered_invoke_goes_on_with_one_warning(capsys):
    # As a preview shows values not yet known: the run continues and names the invoke once.
    run_callable(lambda: [aws.ec2.get_vpc(default=True), aws.ec2.get_vpc(default=True)])
    assert capsys.readouterr().err.count("aws:ec2/getVpc:getVpc") == 1


def test_zone_invoke_answers_from_the_emulator_tables():
    def body():
        provider = aws.Provider("p", region="eu-west-1")
        zones = aws.get_availability_zones(opts=pulumi.InvokeOptions(provider=provider))
        pulumi.export("ids", zones.zone_ids)
        pulumi.export("names", zones.names)

    outputs = run_callable(body).outputs
    assert outputs["names"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert all(z.startswith("euw1-az") for z in outputs["ids"])


def test_secrets_are_masked_in_outputs():
    record = run_callable(lambda: pulumi.export("token", pulumi.Output.secret("s3cr3t")))
    assert record.outputs == {"token": "[secret]"}
    assert "s3cr3t" not in dumps(record.outputs)


def test_runs_another_program_with_its_stack_config(tmp_path: Path):
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime:\n  name: python\n")
    (tmp_path / "Pulumi.ci.yaml").write_text("config:\n  team:size: 3\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nimport pulumi_aws as aws\n"
        "aws.kms.Key('k', enable_key_rotation=True)\n"
        "pulumi.export('size', pulumi.Config().require_int('size'))\n")
    record = run_program(tmp_path, "ci")
    assert record.project == "team" and record.outputs == {"size": 3}
    assert record.config["team:size"] == 3
    assert [r["type"] for r in record.resources] == ["aws:kms/key:Key"]


def test_bad_projects_are_clear_errors(tmp_path: Path):
    with pytest.raises(OfflineError, match="Pulumi.yaml does not exist"):
        run_program(tmp_path, "dev")
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: nodejs\n")
    with pytest.raises(OfflineError, match="runs only 'python'"):
        run_program(tmp_path, "dev")
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\n")
    with pytest.raises(OfflineError, match="no stack 'dev'"):
        read_stack_config(tmp_path, "dev")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  x:password:\n    secure: AAAB\n")
    assert read_stack_config(tmp_path, "dev") == {"x:password": "[secret]"}  # unknown to the program, masked


def test_committed_zone_tables_equal_the_emulators():
    from newinfra.offline.aws_zones import DATA, extract, render

    assert DATA.read_text() == render(extract()), "run: python -m newinfra.offline.aws_zones"
