"""Where a Pulumi project's files are, found from its ``Pulumi.yaml``, never from this package's location.

The installed package holds no configs or locks: they belong to the project being planned. A project is
the nearest directory at or above the starting point (the current directory, or ``--cwd``) that holds a
``Pulumi.yaml``; its stack files live in ``stackConfigDir`` and its placement locks beside them in
``placements/`` (the lock is reviewed with the config it was solved from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ProjectError(ValueError):
    """No Pulumi project where one was expected, or a malformed Pulumi.yaml."""


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    stack_config_dir: Path

    def config_path(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def lock_path(self, stack: str) -> Path:
        return self.stack_config_dir / "placements" / f"{stack}.json"

    def build_dir(self, stack: str) -> Path:
        return self.root / "build" / stack

    def stacks(self) -> list[str]:
        """Stack names that have a stack file, sorted."""
        return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in self.stack_config_dir.glob("Pulumi.*.yaml"))


def find_project(start: Path | None = None) -> Project:
    """The project at or above ``start`` (default: the current directory)."""
    here = Path(start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        path = directory / "Pulumi.yaml"
        if path.is_file():
            return read_project_file(path)
    raise ProjectError(f"{here}: no Pulumi.yaml here or above; run in a Pulumi project or pass --cwd")


def read_project_file(path: Path) -> Project:
    from newinfra.inputs import InputError, load_yaml

    try:
        doc = load_yaml(path, "Pulumi.yaml")
    except InputError as err:
        raise ProjectError(str(err)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise ProjectError(f"{path}: 'name' is missing; a Pulumi.yaml needs at least name and runtime")
    config_dir = doc.get("stackConfigDir", ".")
    if not isinstance(config_dir, str):
        raise ProjectError(f"{path}: stackConfigDir is {config_dir!r}; valid: a directory path")
    return Project(root=path.parent, name=doc["name"], stack_config_dir=(path.parent / config_dir).resolve())
