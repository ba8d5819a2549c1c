"""Pip constraints that pin every dependency in pyproject.toml to the lowest version its range allows.

    python .github/bounds.py lowest > lowest.txt
    pip install --constraint lowest.txt -e '.[dev,ansible]'

The compatibility workflow installs these and runs the fast tests, so a lower bound is one that was tested.
Only `>=` and `==` bounds are pinned; a dependency without one keeps its newest release. The highest bounds
need no file: a fresh install resolves every range to its newest allowed release.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version


def lowest_pins(project: dict, extras: list[str]) -> list[str]:
    """`name==lower` for each dependency of the project and the given extras that has a lower bound, sorted."""
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins = {}
    for text in requirements:
        requirement = Requirement(text)
        lower = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==")]
        if lower:
            pins[requirement.name.lower()] = f"{requirement.name}=={max(lower, key=Version)}"
    return [pins[name] for name in sorted(pins)]


def main(argv: list[str]) -> int:
    if argv[1:2] != ["lowest"]:
        print("usage: bounds.py lowest [EXTRA ...]  (default extras: dev ansible)", file=sys.stderr)
        return 2
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    extras = argv[2:] or ["dev", "ansible"]
    unknown = sorted(set(extras) - set(project["optional-dependencies"]))
    if unknown:
        print(f"pyproject.toml: no extra {unknown[0]!r}; valid: {sorted(project['optional-dependencies'])}",
              file=sys.stderr)
        return 2
    print("\n".join(lowest_pins(project, extras)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
