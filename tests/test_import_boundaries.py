"""Import boundaries, each checked in a fresh interpreter (a clean module cache):
- the components (every module under newinfra.components) load neither scipy, nor the price catalog, nor
  anything from newinfra.cost_model: they plan from placements and hardware facts, never from prices;
- the cost model and the policies never import the project's program (stacks), the offline engine or the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import importlib, json, pkgutil, sys
root = importlib.import_module({package!r})
names = [root.__name__]
if {walk}:
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
        if info.name.rsplit(".", 1)[-1] in {skip!r}:
            continue
        importlib.import_module(info.name)
        names.append(info.name)
print(json.dumps({{"imported": names, "loaded": sorted(sys.modules)}}))
"""


def _loaded(package: str, *, walk: bool = True, skip: tuple[str, ...] = ("__main__",)) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(package=package, walk=walk, skip=skip)],
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _matching(loaded: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in loaded if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_components_load_no_cost_model_no_catalog_no_scipy():
    probe = _loaded("newinfra.components")
    assert len(probe["imported"]) > 20  # every module under newinfra.components was imported
    assert _matching(probe["loaded"], ("scipy", "newinfra.cost_model")) == []


@pytest.mark.parametrize("package", ["newinfra.cost_model", "newinfra.policies"])
def test_cost_model_and_policies_stay_out_of_the_program_engine_and_cli(package):
    # Policy packs' __main__ (PulumiPolicy entry points) only run under the policy host; the rules they load
    # are the modules walked here.
    probe = _loaded(package)
    assert _matching(probe["loaded"], ("stacks", "newinfra.offline", "newinfra.cli")) == []


FORBIDDEN_FOR_ROOMS = ("stacks", "newinfra.offline", "newinfra.cli")


def _imports(path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports too: a lazy import is still one)."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


@pytest.mark.parametrize("room", ["cost_model", "policies", "components"])
def test_no_source_of_a_room_imports_the_program_the_engine_or_the_cli(room):
    """The probe above sees what importing loads; this reads every source file, so an import inside a function
    (which the probe never runs) cannot cross the boundary either."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / room
    crossing = sorted(f"{path.relative_to(root.parent)}: {name}" for path in root.rglob("*.py")
                      for name in _imports(path) if _matching([name], FORBIDDEN_FOR_ROOMS))
    assert crossing == []


def test_the_cost_model_reads_records_without_the_policy_packs():
    """The policy packs judge with the cost model's figures, never the other way round: the price book and the
    pool reader use the core's resource readers (newinfra.props, newinfra.links), not the rules'."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "cost_model"
    crossing = sorted(f"{path.relative_to(root.parent)}: {name}" for path in root.rglob("*.py")
                      for name in _imports(path) if _matching([name], ("newinfra.policies",)))
    assert crossing == []
