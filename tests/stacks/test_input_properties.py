"""Property tests: any config, request or lock gives exit 0, 2 or 3 within 5 s, never a traceback and never 1.

Inputs are both structurally random YAML/JSON and mutations of the reference configs and locks
(stacks/Pulumi.*.yaml, stacks/placements/*.json). The CLI functions run in-process for speed; a few examples
go through a real subprocess. Derandomized in CI (tests/conftest.py).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newinfra.cost_model.__main__ import main as cost_model_main
from newinfra.cost_model.lock import BadLock, StaleLock, load_placements, read_lock
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.config import ConfigError, load_env_config
from newinfra.project import read_project_file
from tests.paths import REPO_ROOT

ENVS = ("dev", "staging", "prod")
STACKS = {env: yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{env}.yaml").read_text()) for env in ENVS}
LOCKS = {env: json.loads((REPO_ROOT / "stacks" / "placements" / f"{env}.json").read_text()) for env in ENVS}
LIMIT_S = 5.0
KEYS = sorted({k.split(":", 1)[-1] for doc in STACKS.values() for k in doc["config"]} |
              {"name", "count", "perNode", "nodes", "min", "max", "region", "family", "limit", "cloud", "zones",
               "placements", "workloads", "exclusions", "totals", "monthlyUsd", "instanceType"})
WORDS = ["aws", "gcp", "alicloud", "*", "A100", "L4", "H100", "tpu-v5litepod-8", "us-east-1", "us-east-9", "P", "G",
         "research", "web-tokens", "1e30", ".inf", "true", "aws:x", "on-demand", "spot", "dev", "prod"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.sampled_from(WORDS),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner,
                                                 max_size=4)), max_leaves=16)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated(draw, doc):
    """The reference document with one to three nodes replaced, deleted or given an extra key."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:  # everything deleted already
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "delete", "extra", "duplicate"]))
        if op == "replace":
            parent[path[-1]] = draw(values)
        elif op == "delete":
            del parent[path[-1]]
        elif op == "extra" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(values)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        if not isinstance(doc, dict | list):
            break
    return doc


def _dump_yaml(doc) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True)
    except (yaml.YAMLError, ValueError, RecursionError):
        return repr(doc)


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "stacks" / "placements").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    return root


def _config_exit(root: Path, text: str | bytes, env: str = "dev") -> int:
    (root / "stacks" / f"Pulumi.{env}.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    try:
        load_env_config(env, read_project_file(root / "Pulumi.yaml"))
    except ConfigError as err:
        assert str(err).strip() and "Traceback" not in str(err)
        return 2
    return 0


def _timed(fn, *args) -> int:
    start = time.monotonic()
    code = fn(*args)
    assert time.monotonic() - start < LIMIT_S
    return code


FEW = settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FEW
@given(env=st.sampled_from(ENVS), data=st.data())
def test_mutated_reference_configs(project_dir, env, data):
    doc = data.draw(mutated(STACKS[env]))
    assert _timed(_config_exit, project_dir, _dump_yaml(doc), env) in (0, 2)


@FEW
@given(doc=values)
def test_random_structured_configs(project_dir, doc):
    text = _dump_yaml({"config": doc if not isinstance(doc, dict) else {f"newinfra:{k}": v for k, v in doc.items()}})
    assert _timed(_config_exit, project_dir, text) == 2


@FEW
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                     st.lists(st.sampled_from(["config:", "  newinfra:tags:", "&a", "*a", "[", "]", "{", "}", ":",
                                               "- ", "\n", "  ", "!!python/object:os.system", "\xff", "'", '"']),
                              max_size=40).map(lambda xs: "".join(xs).encode("utf-8", "surrogatepass"))))
def test_random_bytes_as_a_stack_file(project_dir, raw):
    assert _timed(_config_exit, project_dir, raw) == 2


REQUEST_KEYS = ("allowedClouds", "workloads", "datasets", "dataResidency", "quotas", "monthlyBudgetUsd")


def _request_from(env: str) -> dict:
    config = STACKS[env]["config"]
    return {k: config[f"newinfra:{k}"] for k in REQUEST_KEYS if f"newinfra:{k}" in config}


def _solve_exit(path: Path, text: str) -> int:
    path.write_text(text)
    return cost_model_main(["solve", str(path), "--json"])


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_requests_random_and_mutated(project_dir, data, capsys):
    doc = data.draw(st.one_of(mutated(_request_from(data.draw(st.sampled_from(ENVS)))), values))
    code = _timed(_solve_exit, project_dir / "request.yaml", _dump_yaml(doc))
    out, err = capsys.readouterr()
    assert code in (0, 2, 3), err
    assert "Traceback" not in err
    if code:
        assert err.startswith("error: "), err


def _lock_exit(root: Path, env: str, text: str) -> int:
    from newinfra.cost_model.catalog import load_catalog

    project = read_project_file(root / "Pulumi.yaml")
    (root / "stacks" / f"Pulumi.{env}.yaml").write_text(yaml.safe_dump(STACKS[env]))
    path = project.lock_path(env)
    path.write_text(text)
    cfg = load_env_config(env, project)
    try:
        read_lock(path)
        load_placements(cfg.request, path, load_catalog())
    except BadLock as err:
        assert str(err).count("\n") == 0 and str(path) in str(err)
        return 2
    except StaleLock:
        return 0  # `place` re-solves a stale lock; `pulumi up` refuses it with the command to run
    return 0


@FEW
@given(env=st.sampled_from(ENVS), data=st.data())
def test_locks_random_and_mutated(project_dir, env, data):
    doc = data.draw(st.one_of(mutated(LOCKS[env]), mutated(LOCKS[env]), values))
    text = data.draw(st.sampled_from([json.dumps(doc, sort_keys=True, default=str), json.dumps(doc)[:-1]]))
    assert _timed(_lock_exit, project_dir, env, text) in (0, 2)


@settings(max_examples=6, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_place_with_mutated_locks(tmp_path_factory, data):
    """`place` itself (the solver included) over a mutated lock: 0 or 2, never a traceback."""
    root = tmp_path_factory.mktemp("place")
    (root / "stacks" / "placements").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (root / "stacks" / "Pulumi.dev.yaml").write_text((REPO_ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    doc = data.draw(mutated(LOCKS["dev"]))
    (root / "stacks" / "placements" / "dev.json").write_text(json.dumps(doc, default=str))
    import os

    old = Path.cwd()
    os.chdir(root)
    try:
        start = time.monotonic()
        result = CliRunner().invoke(app, ["place", "dev", "--json"])
        assert time.monotonic() - start < LIMIT_S
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2, 3), result.output


@pytest.mark.parametrize(("args", "content"), [
    (["-m", "newinfra.cost_model", "solve"], "workloads:\n  - {name: w, kind: batch, accelerator: L4, count: true}\n"),
    (["-m", "newinfra.cost_model", "solve"], "a: &a [1, *a]\n"),
    (["-m", "newinfra", "place", "dev"], "config:\n  - newinfra:environment: dev\n"),
])
def test_real_subprocess(tmp_path, args, content):
    (tmp_path / "stacks" / "placements").mkdir(parents=True)
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    target = tmp_path / ("stacks/Pulumi.dev.yaml" if "place" in args else "request.yaml")
    target.write_text(content)
    argv = [sys.executable, *args] + (["request.yaml"] if "solve" in args else [])
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
