"""A program's own environment: Pulumi.yaml's runtime options, its requirements, its virtualenv."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newinfra.cli.app import app
from newinfra.offline import environment, run_program
from newinfra.offline.engine import ProjectFileError
from newinfra.offline.environment import RequirementsError, poetry_requirement

PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "newinfra" / "venvs"


def _program(tmp_path: Path, pulumi_yaml: str, requirements: str | bytes | None = None,
             main: str = "import pulumi\npulumi.export('ok', 1)\n") -> Path:
    program = tmp_path / "prog"
    program.mkdir()
    (program / "Pulumi.yaml").write_text(pulumi_yaml)
    (program / "Pulumi.dev.yaml").write_text("config: {}\n")
    (program / "__main__.py").write_text(main)
    if requirements is not None:
        path = program / "requirements.txt"
        path.write_bytes(requirements) if isinstance(requirements, bytes) else path.write_text(requirements)
    return program


def _plan(program: Path, out: Path):
    return CliRunner().invoke(app, ["plan", "--cwd", str(program), "--stack", "dev", "--out", str(out), "--json"])


def test_requirements_newinfra_already_satisfies_run_in_process(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime: python\n", "pulumi>=3.0.0,<4.0.0\npulumi-aws  # any\n")
    assert run_program(program, "dev").outputs == {"ok": 1}
    assert not cache.exists()  # no virtualenv built for what newinfra's interpreter has


@pytest.mark.parametrize(("options", "message"), [
    ("toolchain: conda", r"runtime.options.toolchain is 'conda'; valid: pip, poetry, uv"),
    ("virtualenv: 3", r"runtime.options.virtualenv is 3; it must be a path"),
])
def test_bad_runtime_options_are_bad_input(tmp_path, cache, options, message):
    program = _program(tmp_path, f"name: p\nruntime:\n  name: python\n  options:\n    {options}\n")
    with pytest.raises(ProjectFileError, match=message):
        run_program(program, "dev")
    result = _plan(program, tmp_path / "out")
    assert result.exit_code == 2 and "Pulumi.yaml" in result.output
    assert not (tmp_path / "out").exists()


def test_unreadable_requirements_file_is_one_line_exit_2(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime: python\n", b"pulumi\xff\xfe\n")
    result = _plan(program, tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {program / 'requirements.txt'}: cannot be read (not UTF-8 text)"
    assert not (tmp_path / "out").exists() and not cache.exists()


def test_a_requirement_pip_cannot_install_is_pips_error_exit_2(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime: python\n", "newinfra-test-no-such-dist==0.0.1\n")
    result = _plan(program, tmp_path / "out")
    assert result.exit_code == 2, result.output
    line = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(line) == 1 and "requirements.txt: the requirements cannot be installed: ERROR:" in line[0]
    assert "newinfra-test-no-such-dist" in line[0]
    assert not (tmp_path / "out").exists()
    assert not any(cache.glob("*/bin")), "a failed install leaves no virtualenv to reuse"


def test_a_virtualenv_the_user_made_is_used_as_is_before_newinfras_packages(tmp_path, cache):
    main = ("import sys, pulumi, teamlib\n"
            "pulumi.export('lib', teamlib.NAME)\n"
            "pulumi.export('prefix', sys.prefix)\n"
            "pulumi.export('order', [p for p in sys.path if p.endswith('site-packages')])\n")
    program = _program(tmp_path, "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: env\n",
                       "pulumi-random>=4\nteamlib\n", main)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(program / "env")], check=True)
    site = next((program / "env").glob("lib/python*/site-packages"))
    (site / "teamlib").mkdir()
    (site / "teamlib" / "__init__.py").write_text("NAME = 'from the program venv'\n")
    record = run_program(program, "dev")
    assert record.outputs["lib"] == "from the program venv"
    assert record.outputs["prefix"] == str(program / "env")
    assert record.outputs["order"][0] == str(site)  # the program's packages first, newinfra's after
    assert not cache.exists()  # nothing installed: not even the requirements it lacks
    assert importlib.util.find_spec("teamlib") is None  # and nothing of it reached newinfra's interpreter


def test_a_program_error_in_its_virtualenv_is_exit_4_with_its_file(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: env\n",
                       main="import pulumi\nraise RuntimeError('no region set')\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(program / "env")], check=True)
    result = _plan(program, tmp_path / "out")
    assert result.exit_code == 4
    assert json.loads(result.stdout.splitlines()[0])["error"]["message"].endswith(
        "__main__.py: RuntimeError: no region set")
    assert not (tmp_path / "out").exists()


def test_uv_defaults_to_dot_venv_and_poetry_constraints_become_pep508(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime:\n  name: python\n  options:\n    toolchain: uv\n",
                       main="import sys, pulumi\npulumi.export('prefix', sys.prefix)\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(program / ".venv")], check=True)
    assert run_program(program, "dev").outputs["prefix"] == str(program / ".venv")
    path = Path("pyproject.toml")
    assert poetry_requirement("pulumi", "^3.100.0", path) == "pulumi>=3.100.0,<4"
    assert poetry_requirement("pulumi-random", "~4.16", path) == "pulumi-random>=4.16,<4.17"
    assert poetry_requirement("boto3", {"version": "^0.2", "extras": ["crt"]}, path) == "boto3[crt]>=0.2,<0.3"
    assert poetry_requirement("x", "1.2.3", path) == "x==1.2.3"
    assert poetry_requirement("y", "*", path) == "y"
    with pytest.raises(RequirementsError, match="only version dependencies"):
        poetry_requirement("lib", {"path": "../lib"}, path)


def test_poetry_pyproject_dependencies_are_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.poetry.dependencies]\npython = "^3.11"\n'
                                             'pulumi = "^3.0"\npulumi-random = ">=4.16,<5"\n')
    req = environment.read_requirements(tmp_path, tmp_path, "poetry")
    assert req.lines == ("pulumi>=3.0,<4", "pulumi-random>=4.16,<5")
    assert environment.read_requirements(tmp_path, tmp_path, "pip") is None  # pip reads requirements.txt only


@pytest.mark.slow
def test_pulumi_random_installs_into_the_programs_cached_virtualenv_only(tmp_path, cache):
    program = tmp_path / "random-pet"
    shutil.copytree(PROGRAMS / "random-pet", program)
    record = run_program(program, "dev")  # builds the virtualenv: pip installs pulumi-random from PyPI
    venvs = [p for p in cache.iterdir() if p.is_dir()]
    assert len(venvs) == 1 and (venvs[0] / environment.COMPLETE).is_file()
    assert record.outputs["sdk"].startswith(str(venvs[0]))  # the engine used the program's pulumi SDK
    assert {r["type"] for r in record.resources} == {"random:index/randomPet:RandomPet",
                                                     "random:index/randomString:RandomString"}
    assert not (program / "venv").exists()  # nothing written into the program's directory
    assert importlib.util.find_spec("pulumi_random") is None  # newinfra's own virtualenv never got it
    built = (venvs[0] / environment.COMPLETE).stat().st_mtime_ns
    assert run_program(program, "dev").resources == record.resources
    # cached: the second run found the finished virtualenv and built nothing (no timing: CI machines vary)
    assert [p for p in cache.iterdir() if p.is_dir()] == venvs
    assert (venvs[0] / environment.COMPLETE).stat().st_mtime_ns == built


def test_the_virtualenv_newinfra_runs_in_is_not_started_again(tmp_path, monkeypatch):
    """This project's own Pulumi.yaml names .venv, where newinfra itself is installed: in-process."""
    program = _program(tmp_path, "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: env\n")
    (program / "env").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = environment.resolve(program, {"runtime": {"options": {"virtualenv": "env"}}}, program)
    assert env.python is None


def test_a_virtualenv_whose_pulumi_cannot_run_the_engine_is_exit_4_in_one_line(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: env\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(program / "env")], check=True)
    site = next((program / "env").glob("lib/python*/site-packages"))
    (site / "pulumi").mkdir()  # an SDK the engine cannot use (as pulumi 2 under protobuf 4 fails)
    (site / "pulumi" / "__init__.py").write_text("raise TypeError('Descriptors cannot be\\ncreated directly')\n")
    result = _plan(program, tmp_path / "out")
    assert result.exit_code == 4
    line = result.stderr.strip().splitlines()[-1]
    assert "cannot run the offline engine: TypeError: Descriptors cannot be created directly" in line
    assert line.endswith("(it has no pulumi SDK; the offline engine needs pulumi 3)")


def test_a_provider_the_program_does_not_declare_is_not_lent_from_newinfra(tmp_path, cache):
    program = _program(tmp_path, "name: p\nruntime:\n  name: python\n  options:\n    virtualenv: env\n",
                       main="import pulumi\nimport pulumi_aws\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(program / "env")], check=True)
    result = _plan(program, tmp_path / "out")
    assert result.exit_code == 4
    assert result.stderr.strip().splitlines()[-1].endswith(
        "__main__.py: ModuleNotFoundError: No module named 'pulumi_aws'")
    assert importlib.util.find_spec("pulumi_aws") is not None  # newinfra has it; the program did not get it


@pytest.mark.slow
def test_a_program_pinned_to_an_older_pulumi_sdk_runs_with_it(tmp_path, cache):
    """pulumi 3.86's mock monitor predates GetDeploymentInfo (a real program pins it: the corpus' kaniak-ecs)."""
    main = ("import pulumi\n"
            "class Site(pulumi.ComponentResource):\n"
            "    def __init__(self, name):\n"
            "        super().__init__('team:index:Site', name)\n"
            "Site('web')\n"
            "pulumi.export('sdk', pulumi.__file__)\n")
    program = _program(tmp_path, "name: p\nruntime: python\n", "pulumi==3.86.0\n", main)
    record = run_program(program, "dev")
    assert record.outputs["sdk"].startswith(str(cache))
    assert [r["type"] for r in record.resources] == ["team:index:Site"]


def test_a_resource_passed_as_an_input_is_recorded_as_the_provider_sees_it(capsys):
    """mateus-aws-bucket in the corpus: BucketObject(bucket=bucket) crashed writing the record."""
    record = run_program(PROGRAMS / "resource-input", "dev")
    by_name = {r["name"]: r for r in record.resources}
    assert by_name["index"]["inputs"]["bucket"] == record.outputs["bucket"]  # the bucket's id
    assert by_name["index"]["propertyDependencies"]["bucket"] == [by_name["site"]["urn"]]
