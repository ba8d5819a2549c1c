"""The offline engine on programs written the way public Pulumi programs are (tests/offline/programs/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.offline import run_program
from newinfra.offline.engine import ProgramError, ProjectFileError, load_stack_config
from newinfra.offline.secrets import derive_key, encrypt_value, make_salt
from newinfra.providers import provider_defaults
from newinfra.record import SECRET, UNKNOWN

PROGRAMS = Path(__file__).parent / "programs"
CIPHERTEXT = "v1:AAAAAAAAAAAAAAAA:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0"


def _by_name(record):
    return {r["name"]: r for r in record.resources}


def test_preview_by_default_up_on_request(capsys):
    record = run_program(PROGRAMS / "lambda-site", "dev")  # is_dry_run(): the up-only guard stays quiet
    assert record.outputs["functionArn"] == UNKNOWN  # computed by no mock: unknown, as preview shows it
    with pytest.raises(ProgramError, match=r"src/__main__.py: ValueError: configure a real domain"):
        run_program(PROGRAMS / "lambda-site", "dev", preview=False)


def test_program_runs_in_main_and_assets_are_recorded(capsys):
    res = _by_name(run_program(PROGRAMS / "lambda-site", "dev"))
    index = res["index"]["inputs"]["source"]
    assert index["kind"] == "FileAsset" and index["path"] == "site/index.html" and len(index["sha256"]) == 64
    bundle = res["bundle"]["inputs"]["source"]
    assert bundle["kind"] == "FileArchive" and set(bundle["members"]) == {"index.html"}
    code = res["fn"]["inputs"]["code"]
    assert code["kind"] == "AssetArchive" and set(code["members"]) == {"config.json", "handler.py"}
    assert code["members"]["config.json"]["kind"] == "StringAsset" and "text" not in code["members"]["config.json"]


def test_stack_region_reaches_default_providers_over_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    record = run_program(PROGRAMS / "lambda-site", "dev")
    assert record.outputs["zone"] == "us-east-2a"
    assert provider_defaults({"aws:region": "us-east-2"})["aws"]["region"] == "us-east-2"
    assert provider_defaults({})["aws"]["region"] == "eu-west-1"  # env only where the stack sets nothing


def test_unanswered_invoke_and_undecryptable_secret_warn_once(capsys):
    record = run_program(PROGRAMS / "lambda-site", "dev")
    err = capsys.readouterr().err
    assert "aws:ec2/getAmi:getAmi" not in err  # answered from moto's image tables
    assert _by_name(record)["web"]["inputs"]["ami"].startswith("ami-")
    assert "lambda-site:apiToken is a secure value" in err
    assert record.config["lambda-site:apiToken"] == SECRET
    assert record.outputs["token"] == SECRET


def test_passphrase_secrets_decrypt_and_never_reach_an_output(tmp_path, monkeypatch, capsys):
    program = tmp_path / "lambda-site"
    shutil.copytree(PROGRAMS / "lambda-site", program)
    salt, nonce = b"saltsalt", b"\x01" * 12
    value = encrypt_value(derive_key("hunter2", salt), "tok-plaintext-123", b"\x02" * 12)
    stack = program / "Pulumi.dev.yaml"
    stack.write_text(f"encryptionsalt: {make_salt('hunter2', salt, nonce)}\n" +
                     stack.read_text().replace(CIPHERTEXT, value))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "hunter2")
    assert load_stack_config(program, "dev").values["lambda-site:apiToken"] == "tok-plaintext-123"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", "--cwd", str(program), "--stack", "dev", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    texts = [result.output, capsys.readouterr().err] + [f.read_text() for f in out.iterdir()]
    assert not any("tok-plaintext-123" in t or value in t for t in texts)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "wrong")
    with pytest.raises(ProjectFileError, match="incorrect passphrase"):
        load_stack_config(program, "dev")


def test_kubernetes_objects_come_back_as_the_api_server_gives_them():
    record = run_program(PROGRAMS / "k8s-app", "dev")
    assert record.outputs["name"].startswith("web-") and record.outputs["namespace"] == "default"
    assert record.outputs["namespaceName"].startswith("team-")
    assert record.outputs["ready"] == UNKNOWN
    service = [r for r in record.resources if r["type"] == "kubernetes:core/v1:Service"][0]
    assert service["inputs"]["metadata"]["labels"] == {"app": "web"}


def test_remote_component_never_hangs_and_is_not_inspected():
    record = run_program(PROGRAMS / "remote-eks", "dev")
    cluster = _by_name(record)["cluster"]
    assert cluster["remote"] is True
    assert cluster["inputs"]["instanceRoles"] == ["urn:pulumi:dev::remote-eks::aws:iam/role:Role::nodes"]
    result = CliRunner().invoke(app, ["check", "--cwd", str(PROGRAMS / "remote-eks"), "--stack", "dev"],
                                env={"COLUMNS": "400"})  # the finding on one line, unfolded
    assert "2 of 3 resources judged; not inspected: eks:index:Cluster" in result.output
    assert "pulumi preview" in result.output


@pytest.mark.parametrize("command", ["plan", "check"])
def test_a_program_that_raises_exits_4_with_a_json_error(command, tmp_path):
    args = [command, "--cwd", str(PROGRAMS / "raises"), "--stack", "dev", "--json"]
    if command == "plan":
        args += ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 4
    payload = json.loads(result.stdout)
    assert payload["error"]["kind"] == "program"
    assert "raises/__main__.py: RuntimeError: the team forgot" in payload["error"]["message"]
    assert not (tmp_path / "out").exists()


def test_malformed_project_file_is_bad_input(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: [unclosed\n")
    result = CliRunner().invoke(app, ["plan", "--cwd", str(tmp_path), "--stack", "dev", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "Pulumi.yaml" in result.output
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    result = CliRunner().invoke(app, ["plan", "--cwd", str(tmp_path), "--stack", "dev", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "Pulumi.dev.yaml does not exist" in result.output


def test_string_config_reads_as_pulumi_config_does():
    from newinfra.policies.config import stack_value

    assert stack_value({"newinfra:monthlyBudgetUsd": "20000"}, "monthlyBudgetUsd") == 20000
    assert stack_value({"newinfra:owner": "team-a"}, "owner") == "team-a"


def test_autoscaling_group_tags_are_a_list():
    from newinfra.policies.rules.budget.tags import tag_keys

    assert tag_keys([{"key": "owner", "value": "a", "propagateAtLaunch": True}, {"key": "x", "value": ""}]) == {"owner"}
    assert tag_keys({"owner": "a", "cost-center": None}) == {"owner"}
