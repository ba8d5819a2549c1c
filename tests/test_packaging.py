"""The distribution: one import package `newinfra`, no project configs, and a team program that plans with it.

The wheel is built from a copy of the tree (setuptools writes build/ and *.egg-info next to the sources, and
build/ is where plans go) and installed into a fresh virtualenv that borrows this environment's dependencies
through a .pth path line. A path line adds the directory without running the .pth files inside it, so this
environment's editable install of newinfra stays inactive there: `import newinfra` can only find the wheel.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.version import Version

from tests.paths import REPO_ROOT as REPO

FIXTURE = Path(__file__).parent / "fixtures" / "team_program"
# The repository folders that setuptools maps into the `newinfra` namespace (pyproject's package-dir).
ROOMS = {"newinfra": "newinfra", "components": "newinfra.components", "cost_model": "newinfra.cost_model",
         "policies": "newinfra.policies"}
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "build", "dist", "__pycache__", "*.egg-info", ".*_cache",
                                    ".hypothesis")


def _setuptools_config() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _module_folders() -> dict[str, Path]:
    """Dotted package name -> folder, for every folder under the rooms that holds a module or a data file
    (setuptools asks for importable data folders to be listed as packages too)."""
    found = {}
    for folder, package in ROOMS.items():
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                relative = path.parent.relative_to(REPO / folder)
                found[".".join((package, *relative.parts))] = path.parent
    return found


def test_every_module_folder_is_a_listed_package():
    config = _setuptools_config()
    assert config["package-dir"] == {package: folder for folder, package in ROOMS.items()}
    folders = _module_folders()
    listed = set(config["packages"])
    missing = sorted(set(folders) - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml (else the wheel lacks them): {missing}"
    assert not sorted(listed - set(folders)), "pyproject lists packages that have no modules"


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    backend = version("setuptools")
    assert Version(backend) >= Version("77"), f"setuptools {backend} cannot build the wheel; pip install -e '.[dev]'"
    source = tmp_path_factory.mktemp("source") / "newinfra"
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    dist = tmp_path_factory.mktemp("dist")
    # No build isolation: the build backend (setuptools, in the dev extra) is already here; nothing is fetched.
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", dist, source, cwd=dist)
    wheels = sorted(dist.glob("*.whl"))
    assert [w.name for w in wheels] == ["newinfra-0.1.0-py3-none-any.whl"]
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with only the wheel installed; dependencies come from this environment."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", root, cwd=root.parent)
    python = root / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=root).stdout.strip())
    assert sorted(p.name for p in site.iterdir()) == []
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "dependencies.pth").write_text("".join(f"{path}\n" for path in ours), encoding="utf-8")
    # This environment's pip, installing for the fresh interpreter (the venv needs no pip of its own).
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel,
         cwd=root.parent)
    return root


def _wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        record = archive.read("newinfra-0.1.0.dist-info/RECORD").decode()
        top_level = archive.read("newinfra-0.1.0.dist-info/top_level.txt").decode()
    assert top_level.split() == ["newinfra"]
    return sorted(row[0] for row in csv.reader(io.StringIO(record)))


@pytest.mark.slow
def test_wheel_ships_one_package_and_no_project_files(wheel, venv):
    files = _wheel_files(wheel)
    assert {path.split("/")[0] for path in files} == {"newinfra", "newinfra-0.1.0.dist-info"}
    assert "newinfra/py.typed" in files
    # Every file of the rooms (modules and the data they read), under its namespaced path.
    shipped = {f"{ROOMS[folder].replace('.', '/')}/{path.relative_to(REPO / folder).as_posix()}"
               for folder in ROOMS for path in (REPO / folder).rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert sorted(shipped - set(files)) == []
    # Nothing of this project's own program: no stacks/, stack configs or placement locks.
    assert [p for p in files if "stacks/" in p or "/placements/" in p or p.rsplit("/", 1)[-1].startswith("Pulumi.")
            and not p.endswith(("PulumiPolicy.yaml", "PulumiPlugin.yaml"))] == []
    site = Path(_run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=venv).stdout.strip())
    assert sorted(p.name for p in site.iterdir()) == ["dependencies.pth", "newinfra", "newinfra-0.1.0.dist-info"]


@pytest.mark.slow
def test_team_program_with_its_own_components_plans_with_the_wheel(venv, tmp_path):
    program = tmp_path / "team-net"
    shutil.copytree(FIXTURE, program, ignore=NOT_COPIED)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run(venv / "bin" / "python", "-c",
                 "import importlib.util as u, newinfra.components as c; print(c.__file__); "
                 "print(u.find_spec('components'))", cwd=outside, env=env).stdout.split()
    assert where == [str(venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
                         / "newinfra" / "components" / "__init__.py"), "None"]

    done = _run(venv / "bin" / "newinfra", "plan", "--cwd", program, "--stack", "dev", "--json",
                "--out", tmp_path / "out", cwd=outside, env=env)
    summary = json.loads(done.stdout)
    assert summary["record"] == str(tmp_path / "out" / "resources.json")
    resources = json.loads((tmp_path / "out" / "resources.json").read_text(encoding="utf-8"))
    resources = resources["resources"] if isinstance(resources, dict) else resources
    by_type = {}
    for resource in resources:
        by_type.setdefault(resource["type"], []).append(resource)
    # The team's own component module ran (its security group), and so did newinfra's Network.
    assert [r["name"] for r in by_type["aws:ec2/securityGroup:SecurityGroup"]] == ["team-nodes"]
    [network] = by_type["newinfra:aws:Network"]
    children = {r["type"] for r in resources if r.get("parent") == network["urn"]}
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway"} <= children
    assert not list(FIXTURE.glob("build")) and not (outside / "build").exists()
