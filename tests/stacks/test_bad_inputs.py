"""Bad input never ends in a traceback and is never accepted silently: exit 2, one line per problem naming the
file, the key path, the (truncated) bad value and what is valid; nothing written."""

from __future__ import annotations

import copy
import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from newinfra.cost_model.lock import BadLock, InvalidLock, load_placements, read_lock
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.config import ConfigError, config_notes, load_env_config, parse_config
from newinfra.inputs import MAX_ECHO, InputError, did_you_mean, echo, load_yaml, parse_yaml
from newinfra.project import Project, ProjectError, read_project_file
from tests.paths import REPO_ROOT

DEV_TEXT = (REPO_ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
DEV = yaml.safe_load(DEV_TEXT)["config"]
DEV_LOCK = json.loads((REPO_ROOT / "stacks" / "placements" / "dev.json").read_text())


def dev_raw() -> dict:
    return {k.split(":", 1)[1]: copy.deepcopy(v) for k, v in DEV.items() if k.startswith("newinfra:")}


def make_project(root: Path, stack: str | bytes | dict | None = None, lock: str | bytes | dict | None = None) -> Project:
    """A copy of this project's layout in ``root``: Pulumi.yaml, stacks/Pulumi.dev.yaml and its lock."""
    (root / "stacks" / "placements").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    if stack is None:
        stack = DEV_TEXT
    if isinstance(stack, dict):
        stack = yaml.safe_dump({"config": {f"newinfra:{k}": v for k, v in stack.items()}})
    target = root / "stacks" / "Pulumi.dev.yaml"
    target.write_bytes(stack if isinstance(stack, bytes) else stack.encode())
    if lock is None:
        lock = DEV_LOCK
    if isinstance(lock, dict):
        lock = json.dumps(lock, indent=2, sort_keys=True) + "\n"
    lock_file = root / "stacks" / "placements" / "dev.json"
    lock_file.write_bytes(lock if isinstance(lock, bytes) else lock.encode())
    return read_project_file(root / "Pulumi.yaml")


def config_error(tmp_path: Path, stack) -> str:
    with pytest.raises(ConfigError) as err:
        load_env_config("dev", make_project(tmp_path, stack))
    return str(err.value)


def assert_one_line(message: str, *fragments: str) -> None:
    assert "\n" not in message.strip(), message
    assert "Traceback" not in message
    assert len(message) < 600, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def cli_error(output: str) -> str:
    """The command's error lines, without the notes and warnings it may print first."""
    return "\n".join(line for line in output.splitlines() if not line.startswith(("note: ", "warning: ")))


def with_(path: list, value) -> dict:
    raw = dev_raw()
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return raw


def cli(root: Path, monkeypatch, *args: str):
    monkeypatch.chdir(root)
    return CliRunner().invoke(app, list(args))


# --- 1. crashes that read as verdicts: now exit 2, one line --------------------------------------------


def test_config_as_a_list(tmp_path):
    assert_one_line(config_error(tmp_path, "config:\n  - newinfra:environment: dev\n"),
             "Pulumi.dev.yaml", "config", "mapping")


def test_stack_file_that_is_not_utf8(tmp_path):
    assert_one_line(config_error(tmp_path, DEV_TEXT.encode() + b"\n# caf\xe9\n"), "Pulumi.dev.yaml", "0xe9", "UTF-8")


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path):
    deep = "config:\n  newinfra:tags: " + "[" * 20_000 + "]" * 20_000 + "\n"
    assert_one_line(config_error(tmp_path, deep), "Pulumi.dev.yaml", "nested deeper than")
    with pytest.raises(InputError, match="nested deeper"):
        parse_yaml("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)), "deep.yaml")


@pytest.mark.parametrize("count", ["1e30", "1.0e+30", "true", "16.5", "'16'"])
def test_count_must_be_a_whole_number_in_range(tmp_path, count):
    text = DEV_TEXT.replace("count: 16", f"count: {count}", 1)
    assert_one_line(config_error(tmp_path, text), "Pulumi.dev.yaml", "newinfra:workloads[0].count")


@pytest.mark.parametrize(("key", "text"), [
    ("datasets[0].monthlyReadGb", ("monthlyReadGb: 9600", "monthlyReadGb: .inf")),
    ("monthlyBudgetUsd", ("monthlyBudgetUsd: 12000", "monthlyBudgetUsd: .inf")),
    ("monthlyBudgetUsd", ("monthlyBudgetUsd: 12000", "monthlyBudgetUsd: .nan")),
    ("monthlyBudgetUsd", ("monthlyBudgetUsd: 12000", "monthlyBudgetUsd: 1.0e+300")),
    ("quotas[0].limit", ("limit: 192}", "limit: .inf}")),
    ("monthlyBudgetUsd", ("monthlyBudgetUsd: 12000", "monthlyBudgetUsd: true")),
])
def test_numbers_are_finite_and_in_range(tmp_path, key, text):
    assert_one_line(config_error(tmp_path, DEV_TEXT.replace(*text, 1)), f"newinfra:{key}")


def test_infinite_budget_via_check_exits_2(tmp_path, monkeypatch):
    make_project(tmp_path, DEV_TEXT.replace("monthlyBudgetUsd: 12000", "monthlyBudgetUsd: .inf"))
    result = cli(tmp_path, monkeypatch, "check", "dev")
    assert result.exit_code == 2, result.output
    assert_one_line(cli_error(result.output), "newinfra:monthlyBudgetUsd", "finite")


def test_billion_laughs_under_tags_is_refused_fast(tmp_path, monkeypatch):
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefgh"[i]
        laughs.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = "config:\n  newinfra:tags:\n" + "".join(f"    {line}\n" for line in laughs)
    assert len(bomb) < 700
    make_project(tmp_path, bomb)
    start = time.monotonic()
    for command in (["place", "dev"], ["plan", "dev", "--out", str(tmp_path / "out")]):
        result = cli(tmp_path, monkeypatch, *command)
        assert result.exit_code == 2, result.output
        assert_one_line(cli_error(result.output), "Pulumi.dev.yaml", "aliases expand")
    assert time.monotonic() - start < 10
    assert not (tmp_path / "out").exists()


def test_recursive_anchor_is_refused():
    with pytest.raises(InputError, match="recursive anchor"):
        parse_yaml("a: &a [1, *a]\n", "r.yaml")


def test_duplicate_keys_name_the_key_and_line(tmp_path):
    text = DEV_TEXT.replace("  newinfra:allowedClouds: [aws]\n",
                            "  newinfra:allowedClouds: [aws]\n  newinfra:allowedClouds: [gcp]\n", 1)
    line = text.splitlines().index("  newinfra:allowedClouds: [gcp]") + 1
    assert_one_line(config_error(tmp_path, text), "Pulumi.dev.yaml", "'newinfra:allowedClouds'", f"line {line}")


def test_yaml_errors_cite_the_file_not_a_unicode_string(tmp_path, capsys):
    from newinfra.cost_model.__main__ import main

    request = tmp_path / "req.yaml"
    request.write_text("workloads: [unclosed\n")
    assert main(["solve", str(request)]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, str(request), "line 2")
    assert "<unicode string>" not in err


def test_pulumi_yaml_goes_through_the_same_loader(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: a\nname: b\nruntime: python\n")
    with pytest.raises(ProjectError, match=r"Pulumi.yaml: line 2: key 'name' repeats"):
        read_project_file(tmp_path / "Pulumi.yaml")


LOCK_CASES = {
    "a JSON list": ("[]", "(document)"),
    "not UTF-8": (b'{"workloads": {}, "x": "\xff"}', "0xff"),
    "not JSON": ("{", "is not JSON"),
    "NaN totals": ('{"totals": {"monthlyUsd": NaN}}', "not a finite number"),
    "bad exclusions": ({**DEV_LOCK, "exclusions": ["aws us-east-1"]}, "exclusions[0]"),
    "exclusions not a list": ({**DEV_LOCK, "exclusions": "aws/us-east-1"}, "exclusions"),
    "workloads a list": ({**DEV_LOCK, "workloads": []}, "workloads"),
    "a placement with a bad node count": (
        {**DEV_LOCK, "workloads": {**DEV_LOCK["workloads"], "chat-serve": {
            **DEV_LOCK["workloads"]["chat-serve"], "placements": [
                {**DEV_LOCK["workloads"]["chat-serve"]["placements"][0], "nodes": True}]}}},
        "workloads.chat-serve.placements[0].nodes"),
}


@pytest.mark.parametrize("case", sorted(LOCK_CASES))
def test_bad_lock_exits_2_naming_the_key(tmp_path, monkeypatch, case):
    lock, fragment = LOCK_CASES[case]
    make_project(tmp_path, lock=lock)
    path = tmp_path / "stacks" / "placements" / "dev.json"
    before = path.read_bytes()
    with pytest.raises(BadLock) as err:
        read_lock(path)
    assert_one_line(str(err.value), str(path), fragment, "newinfra place dev")
    result = cli(tmp_path, monkeypatch, "place", "dev")
    assert result.exit_code == 2, result.output
    assert_one_line(cli_error(result.output), fragment)
    assert path.read_bytes() == before


def test_lock_that_is_a_directory(tmp_path, monkeypatch):
    make_project(tmp_path)
    path = tmp_path / "stacks" / "placements" / "dev.json"
    path.unlink()
    path.mkdir()
    with pytest.raises(BadLock, match="is a directory"):
        read_lock(path)
    result = cli(tmp_path, monkeypatch, "place", "dev")
    assert result.exit_code == 2 and "is a directory" in result.output, result.output


def test_lock_with_an_extra_workload(tmp_path):
    from newinfra.cost_model.catalog import load_catalog

    lock = copy.deepcopy(DEV_LOCK)
    extra = copy.deepcopy(lock["workloads"]["chat-serve"])
    for p in extra["placements"]:
        p["workload"] = "ghost"
    lock["workloads"]["ghost"] = extra
    project = make_project(tmp_path, lock=lock)
    cfg = load_env_config("dev", project)
    with pytest.raises(InvalidLock) as err:
        load_placements(cfg.request, project.lock_path("dev"), load_catalog())
    assert_one_line(str(err.value), "workloads.ghost: not a workload of the config", "chat-serve", "pretrain")


def test_lock_with_an_extra_workload_fails_plan_with_exit_2(tmp_path, monkeypatch):
    lock = copy.deepcopy(DEV_LOCK)
    lock["workloads"]["ghost"] = {"placements": []}
    shutil.copytree(REPO_ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("__pycache__"))
    make_project(tmp_path, lock=lock)
    result = cli(tmp_path, monkeypatch, "plan", "dev", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert "ghost: not a workload of the config" in result.output
    assert not (tmp_path / "out").exists()


# --- 2. accepted silently before: refused now ---------------------------------------------------------


REFUSED = {
    "quota region typo": (with_(["quotas", 0, "region"], "us-east-9"),
                          ["newinfra:quotas[0].region", "'us-east-9'", "limit nothing", "did you mean us-east-"]),
    "quota region wildcard": (with_(["quotas", 0, "region"], "*"), ["newinfra:quotas[0].region", "'*'"]),
    "quota family typo": (with_(["quotas", 2, "family"], "g"),
                          ["newinfra:quotas[2].family", "'g'", "did you mean G?", "valid: "]),
    "team missing from teams": (with_(["workloads", 0, "team"], "reserch"),
                                ["newinfra:workloads[0].team", "'reserch'", "did you mean research?",
                                 "valid: product, research"]),
    "duplicate team": (with_(["teams", 1, "name"], "research"), ["newinfra:teams", "repeated: research"]),
    "duplicate dataset": (with_(["datasets", 1, "name"], "web-tokens"), ["newinfra:datasets", "repeated: web-tokens"]),
    "duplicate workload": (with_(["workloads", 1, "name"], "pretrain"), ["newinfra:workloads", "repeated: pretrain"]),
    "dataset outside allowedClouds": (with_(["datasets", 1, "homeCloud"], "gcp"),
                                      ["newinfra:datasets[1].homeCloud", "'gcp'", "valid: aws"]),
    "reserved aws tag": (with_(["tags", "aws:team"], "x"), ["newinfra:tags", "'aws:team'", "reserved by aws"]),
    "tag value too long": (with_(["tags", "note"], "x" * 1_000_000), ["newinfra:tags", "note", "at most 256"]),
    "count true": (with_(["workloads", 0, "count"], True), ["newinfra:workloads[0].count", "True"]),
    "gpuQuota true": (with_(["teams", 0, "gpuQuota"], True), ["newinfra:teams[0].gpuQuota", "True"]),
    "sizeGb true": (with_(["datasets", 0, "sizeGb"], True), ["newinfra:datasets[0].sizeGb", "boolean"]),
    "infinite budget": (with_(["monthlyBudgetUsd"], float("inf")), ["newinfra:monthlyBudgetUsd", "finite"]),
    "NaN quota": (with_(["quotas", 0, "limit"], float("nan")), ["newinfra:quotas[0].limit", "finite"]),
    "unknown key near miss": (with_(["workloads", 0, "acelerator"], "A100"),
                              ["newinfra:workloads[0].acelerator", "did you mean accelerator?", "valid keys here: "]),
    "accelerator near miss": (with_(["workloads", 0, "accelerator"], "A10O"),
                              ["newinfra:workloads[0].accelerator", "'A10O'", "(did you mean A10"]),
    "dataset near miss": (with_(["workloads", 0, "dataset"], "web-token"),
                          ["newinfra:workloads[0].dataset", "did you mean web-tokens?", "valid: chat-weights, web-tokens"]),
    "cloud near miss": (with_(["allowedClouds"], ["awz"]), ["newinfra:allowedClouds[0]", "did you mean aws?"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_one_line(case):
    raw, fragments = REFUSED[case]
    with pytest.raises(ConfigError) as err:
        parse_config(raw, "Pulumi.dev.yaml")
    message = str(err.value)
    lines = message.splitlines()
    assert all(line.startswith("Pulumi.dev.yaml: ") for line in lines), message
    assert not any("['" in line for line in lines), f"a Python list repr in {message!r}"
    joined = " | ".join(lines)
    for fragment in fragments:
        assert fragment in joined, f"{fragment!r} not in {message!r}"
    assert len(message) < 2_000


def test_gcp_tags_must_be_label_keys():
    raw = dev_raw()
    raw["allowedClouds"] = ["aws", "gcp"]
    raw["tags"] = {**raw["tags"], "Owner": "x"}
    with pytest.raises(ConfigError, match="'Owner' and 'owner' are the same GCP label|'owner' and 'Owner'"):
        parse_config(raw, "Pulumi.dev.yaml")
    raw["tags"] = {"owner": "a", "cost-center": "b", "1st": "x"}
    with pytest.raises(ConfigError, match="'1st' cannot be a GCP label key"):
        parse_config(raw, "Pulumi.dev.yaml")


def test_unknown_exclude_region_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    make_project(tmp_path)
    path = tmp_path / "stacks" / "placements" / "dev.json"
    before = path.read_bytes()
    result = cli(tmp_path, monkeypatch, "place", "dev", "--exclude", "aws/us-east-9")
    assert result.exit_code == 2, result.output
    assert_one_line(cli_error(result.output), "--exclude aws/us-east-9", "'us-east-9' is not a region of aws", "did you mean")
    bad_zone = cli(tmp_path, monkeypatch, "place", "dev", "--exclude", "aws/us-east-1/use1-az99")
    assert bad_zone.exit_code == 2 and "'use1-az99' is not a zone" in bad_zone.output
    assert path.read_bytes() == before


def test_dev_says_that_nodes_min_is_not_kept(tmp_path, monkeypatch):
    cfg = load_env_config("dev", make_project(tmp_path))
    notes = config_notes(cfg)
    assert notes == ["newinfra:workloads[1].nodes.min: 1 is kept only in prod; in dev the chat-serve pools "
                     "scale to zero when idle (write min: 0 to say so)"]
    prod = load_env_config("prod", read_project_file(REPO_ROOT / "Pulumi.yaml"))
    assert config_notes(prod) == []
    result = cli(tmp_path, monkeypatch, "place", "dev", "--json")
    assert result.exit_code == 0, result.output
    assert f"note: {notes[0]}" in result.output


# --- helpers ------------------------------------------------------------------------------------------


def test_echo_is_bounded_in_length_and_time():
    shared = ["lol"] * 9
    for _ in range(9):
        shared = [shared] * 9  # 9^10 leaves, shared
    start = time.monotonic()
    text = echo({"tags": shared, "x": "y" * 10_000})
    assert len(text) <= MAX_ECHO and time.monotonic() - start < 0.5


def test_did_you_mean():
    assert did_you_mean("us-east-9", ["us-east-1", "eu-west-1"]) == " (did you mean us-east-1?)"
    assert did_you_mean("p", ["P", "G"]) == " (did you mean P?)"
    assert did_you_mean("zzz", ["P", "G"]) == ""


def test_reference_files_load_unchanged():
    for name in ("dev", "staging", "prod"):
        path = REPO_ROOT / "stacks" / f"Pulumi.{name}.yaml"
        assert load_yaml(path) == yaml.safe_load(path.read_text())
        assert read_lock(REPO_ROOT / "stacks" / "placements" / f"{name}.json") is not None


@pytest.mark.parametrize(("text", "fragment"), [("[" * 5000 + "]" * 5000, "nested deeper"),
                                                ('{"all": NaN}', "not a finite number"),
                                                ('{"all": "advisory",}', "is not JSON")])
def test_policy_config_through_the_json_reader(tmp_path, text, fragment):
    from newinfra.policies.config import PolicyConfigError, read_policy_config

    path = tmp_path / "policy.json"
    path.write_text(text)
    with pytest.raises(PolicyConfigError) as err:
        read_policy_config(path)
    assert_one_line(str(err.value), "--policy-config", str(path), fragment)
