"""The environment's config (`newinfra:` keys of stacks/Pulumi.<env>.yaml), read once and validated.

The CLI reads the YAML file; the Pulumi program reads the same keys through ``pulumi.Config`` (the engine
hands it the same file). Both go through ``parse_config`` so an error reads the same either way: the key
path, the bad value and what would be valid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from newinfra.components.planning.profile import DEFAULT_PROFILE, Profile
from newinfra.components.planning.tags import REQUIRED_TAGS
from newinfra.cost_model.request import Model, PlacementRequest
from newinfra.project import Project, ProjectError, find_project

NAMESPACE = "newinfra"
# An environment is a Pulumi stack of any name this pattern allows (dev, qa, prod-eu…): it lands in physical
# names (components/planning/names.py), so it stays short and DNS-safe. Its behaviour comes from `profile`.
ENVIRONMENT_PATTERN = r"^[a-z][a-z0-9-]{0,30}$"


class ConfigError(ValueError):
    """A config the program refuses; the message names the key path, the bad value and what is valid."""


class Team(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    gpu_quota: int = Field(ge=0, description="accelerators the team's namespace may request")


class EnvConfig(PlacementRequest):
    environment: str
    # production | development: node floors, NAT per zone, --accept for moves (components/planning/profile.py)
    profile: Profile = DEFAULT_PROFILE
    tags: dict[str, str]
    replan_threshold: float = Field(default=0.10, ge=0, le=1)
    # /16 networks are carved from this range, one per (cloud, region) in use, in sorted order.
    network_supernet: str = "10.0.0.0/8"
    # A public Kubernetes API endpoint exists only when CIDRs are listed here (never 0.0.0.0/0).
    cluster_public_cidrs: tuple[str, ...] = ()
    # EKS node image family for NVIDIA nodes: AL2023 (default) or Bottlerocket.
    aws_node_image: Literal["al2023", "bottlerocket"] = "al2023"
    teams: tuple[Team, ...] = ()
    # Alibaba Cloud region -> zones for vSwitches and GPU pools. The price source lists no zones, so the
    # zones come from here (checked by the provider at `pulumi up`); without them the program asks the
    # cloud (alicloud.get_zones), which the offline engine cannot answer.
    alicloud_zones: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("environment")
    @classmethod
    def _environment_name(cls, name: str) -> str:
        if not re.fullmatch(ENVIRONMENT_PATTERN, name):
            raise ValueError(f"an environment name matches {ENVIRONMENT_PATTERN} (a lowercase letter, then up to "
                             "30 lowercase letters, digits or '-'; e.g. qa, prod-eu)")
        return name

    @field_validator("tags")
    @classmethod
    def _required_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
        if missing:
            raise ValueError(f"missing required cost tags {missing}; required: {list(REQUIRED_TAGS)}")
        return dict(sorted(tags.items()))

    @field_validator("cluster_public_cidrs")
    @classmethod
    def _no_open_endpoint(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        if any(c.endswith("/0") for c in cidrs):
            raise ValueError(f"{list(cidrs)} opens the API to the internet; list your office/VPN ranges instead")
        return cidrs

    @property
    def request(self) -> PlacementRequest:
        """The cost model's view: only the keys the optimizer reads (the config hash covers exactly these)."""
        fields = PlacementRequest.model_fields
        return PlacementRequest.model_validate({k: getattr(self, k) for k in fields})


def _path(loc: tuple[Any, ...]) -> str:
    out = NAMESPACE
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f":{part}" if out == NAMESPACE else f".{part}"
    return out


def _valid_keys(model: type, loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed where an unknown key appeared (walks the model along the error location)."""
    from typing import get_args, get_origin

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        if part not in fields:
            return []
        ann = fields[part].annotation
        while get_origin(ann) is not None:
            args = [a for a in get_args(ann) if a is not type(None) and a is not Ellipsis]
            if not args:
                break
            ann = args[-1] if get_origin(ann) is dict else args[0]
        if not hasattr(ann, "model_fields"):
            return []
        current = ann
    return sorted(f.alias or n for n, f in current.model_fields.items())


def format_validation_error(exc: ValidationError, model: type = EnvConfig) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _path(loc)
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key; valid keys here: {_valid_keys(model, loc)}")
        elif err["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {value!r} is not valid: {msg}")
    return "\n".join(lines)


def parse_config(raw: dict[str, Any], source: str) -> EnvConfig:
    """Validate the `newinfra:` keys (without the namespace). Raises ConfigError."""
    try:
        cfg = EnvConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}:\n{format_validation_error(exc)}") from None
    from newinfra.config_catalog import check_against_catalog

    problems = check_against_catalog(cfg)
    if problems:
        raise ConfigError(f"{source}:\n" + "\n".join(problems))
    return cfg


def _project(project: Project | None) -> Project:
    try:
        return project or find_project()
    except ProjectError as err:
        raise ConfigError(str(err)) from None


def config_path(env: str, project: Project | None = None) -> Path:
    return _project(project).config_path(env)


def lock_path(env: str, project: Project | None = None) -> Path:
    """The placement lock of ``env`` in the project at or above the current directory (or ``project``)."""
    return _project(project).lock_path(env)


def read_namespaced(raw_config: dict[str, Any], source: str) -> dict[str, Any]:
    """`newinfra:key` entries of a stack file's config, without the namespace; other namespaces ignored."""
    out = {}
    for key, value in raw_config.items():
        ns, _, name = key.partition(":")
        if not name:
            raise ConfigError(f"{source}: config key {key!r} has no namespace; write it as {NAMESPACE}:{key}")
        if ns == NAMESPACE:
            out[name] = value
    return out


def load_env_config(env: str, project: Project | None = None) -> EnvConfig:
    """Read and validate the project's Pulumi.<env>.yaml. Raises ConfigError."""
    project = _project(project)
    path = project.config_path(env)
    if not path.is_file():
        known = project.stacks()
        raise ConfigError(f"environment {env!r} has no stack file {path.name}; valid environments: {known}")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: not valid YAML ({exc})") from None
    raw = read_namespaced(doc.get("config") or {}, path.name)
    cfg = parse_config(raw, path.name)
    if cfg.environment != env:
        raise ConfigError(f"{path.name}: newinfra:environment is {cfg.environment!r}; it must be {env!r}")
    return cfg
