"""The environment's config (`newinfra:` keys of stacks/Pulumi.<env>.yaml), read once and validated.

The CLI reads the YAML file; the Pulumi program reads the same keys through ``pulumi.Config`` (the engine
hands it the same file). Both go through ``parse_config`` so an error reads the same either way: the key
path, the bad value and what would be valid.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from newinfra.cidrs import DEFAULT_LIMIT, judge
from newinfra.components.planning.guards import (
    AWS_MAX_EMAILS,
    AWS_MAX_NOTIFICATIONS,
    EMAIL,
    GCP_BILLING_ACCOUNT,
    GCP_MAX_CHANNELS,
    threshold_problem,
)
from newinfra.components.planning.profile import DEFAULT_PROFILE, Profile, behaviour
from newinfra.components.planning.tags import REQUIRED_TAGS, tag_problems
from newinfra.cost_model.request import Int, Model, Number, PlacementRequest
from newinfra.inputs import InputError, did_you_mean, echo, listing, load_yaml
from newinfra.project import Project, ProjectError, find_project

NAMESPACE = "newinfra"
# An environment is a Pulumi stack of any name this pattern allows (dev, qa, prod-eu…): it lands in physical
# names (components/planning/names.py), so it stays short and DNS-safe. Its behaviour comes from `profile`.
ENVIRONMENT_PATTERN = r"^[a-z][a-z0-9-]{0,30}$"


class ConfigError(ValueError):
    """A config the program refuses; the message names the key path, the bad value and what is valid."""


class Team(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    gpu_quota: Int = Field(ge=0, le=1_000_000, description="accelerators the team's namespace may request")


class BudgetThreshold(Model):
    percent: Number
    # actual: spend so far this month; forecast: the month's spend as the cloud projects it
    basis: Literal["actual", "forecast"] = "actual"

    @field_validator("percent")
    @classmethod
    def _in_range(cls, percent: float) -> float:
        if threshold_problem(percent):
            raise ValueError("a threshold is a percent of monthlyBudgetUsd in (0, 200]")
        return percent


class BudgetAlerts(Model):
    """Budget guards on every cloud the stack uses (components/aws/guards.py, components/gcp/guards.py)."""

    thresholds: tuple[BudgetThreshold, ...]
    recipients: tuple[str, ...]  # email addresses told at every threshold
    # The tag (a key of newinfra:tags) whose value marks the stack's spend: the AWS budget filters on it as a
    # cost allocation tag, the GCP budget on the same label.
    scope_tag: str = "cost-center"
    # development profiles only: at this percent of actual spend, AWS Budgets applies a deny on new
    # accelerator capacity (components/planning/guards.py gpu_stop_policy) to the stack's node roles and these.
    stop_gpu_at_percent: Number | None = None
    stop_gpu_roles: tuple[str, ...] = ()
    # required when GCP is in allowedClouds: the billing account the GCP budget lives in (XXXXXX-XXXXXX-XXXXXX)
    gcp_billing_account: str | None = None

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, thresholds: tuple[BudgetThreshold, ...]) -> tuple[BudgetThreshold, ...]:
        if not thresholds:
            raise ValueError("give at least one threshold, e.g. [{percent: 80, basis: actual}]")
        seen = [(t.basis, t.percent) for t in thresholds]
        dupes = sorted({f"{b} {p:g}%" for b, p in seen if seen.count((b, p)) > 1})
        if dupes:
            raise ValueError(f"repeated thresholds {listing(dupes)}; give each once")
        if len(thresholds) > AWS_MAX_NOTIFICATIONS:
            raise ValueError(f"{len(thresholds)} thresholds; a budget takes at most {AWS_MAX_NOTIFICATIONS}")
        return thresholds

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, recipients: tuple[str, ...]) -> tuple[str, ...]:
        if not recipients:
            raise ValueError("the recipient list is empty; name at least one email address that is told")
        bad = [r for r in recipients if not EMAIL.fullmatch(r)]
        if bad:
            raise ValueError(f"{listing(bad)} are not email addresses (e.g. ml-platform@example.com)")
        if len(set(recipients)) > AWS_MAX_EMAILS:
            raise ValueError(f"{len(set(recipients))} addresses; a budget notification takes at most {AWS_MAX_EMAILS}")
        return tuple(sorted(set(recipients)))

    @field_validator("stop_gpu_at_percent")
    @classmethod
    def _stop_in_range(cls, percent: float | None) -> float | None:
        if percent is not None and threshold_problem(percent):
            raise ValueError("the stop threshold is a percent of monthlyBudgetUsd in (0, 200]")
        return percent

    @field_validator("gcp_billing_account")
    @classmethod
    def _billing_account(cls, account: str | None) -> str | None:
        if account is not None and not GCP_BILLING_ACCOUNT.fullmatch(account):
            raise ValueError("a billing account id is three groups of six hex digits, e.g. 012345-6789AB-CDEF01")
        return account


class ServiceExposure(Model):
    """How an inference service is reached (components/planning/serving.py): private unless public."""

    public: bool = False
    allowed_cidrs: tuple[str, ...] = ()
    # AWS: ACM certificate ARN; GCP: Certificate Manager / pre-shared certificate name; Alibaba: SLB cert id
    tls_certificate: str = Field(min_length=1)
    hostname: str | None = None


class ServiceAutoscaling(Model):
    metric: Literal["queue-depth", "p95-latency", "gpu-utilization"] = "queue-depth"
    target: Number | None = Field(default=None, gt=0, le=1e6)
    prometheus_url: str | None = None


class ServiceCanary(Model):
    image: str = Field(min_length=1)
    args: tuple[str, ...] = ()
    weight: Int = Field(ge=1, le=50, description="percent of requests the canary revision takes")
    replicas: Int = Field(default=1, ge=1, le=1000)


class Service(Model):
    """An inference workload served by newinfra:k8s:InferenceService: the model server's image and args (the
    model is fetched by the server at start, never at plan time) behind the cloud's load balancer."""

    workload: str
    image: str = Field(min_length=1)
    args: tuple[str, ...] = ()
    port: Int = Field(default=8000, ge=1, le=65535)
    health_path: str = "/health"
    nodes_per_replica: Int = Field(default=1, ge=1, le=64)
    exposure: ServiceExposure
    autoscaling: ServiceAutoscaling | None = None
    canary: ServiceCanary | None = None


def replica_range(workload, nodes_per_replica: int) -> tuple[int, int]:
    """A served workload's replicas (min, max): its node range (or count / perNode) over nodes per replica."""
    if workload.nodes is not None:
        return workload.nodes.min // nodes_per_replica, workload.nodes.max // nodes_per_replica
    nodes = workload.count // (workload.per_node or workload.count)
    return nodes // nodes_per_replica, nodes // nodes_per_replica


class EnvConfig(PlacementRequest):
    environment: str
    # production | development: node floors, NAT per zone, --accept for moves (components/planning/profile.py)
    profile: Profile = DEFAULT_PROFILE
    tags: dict[str, str]
    replan_threshold: Number = Field(default=0.10, ge=0, le=1)
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
    budget_alerts: BudgetAlerts | None = None
    # Inference workloads served behind the cloud's load balancer (newinfra:k8s:InferenceService).
    services: tuple[Service, ...] = ()

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
            raise ValueError(f"missing required cost tags {listing(missing)}; required: {listing(REQUIRED_TAGS)}")
        return dict(sorted(tags.items()))

    @field_validator("cluster_public_cidrs")
    @classmethod
    def _no_open_endpoint(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        j = judge(cidrs)
        if j.invalid:
            raise ValueError(f"{listing(j.invalid)} are not CIDRs (e.g. 203.0.113.0/24 or 2001:db8::/48)")
        if j.open:  # the union counts: 0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0
            raise ValueError(f"{j.describe()} opens the API to the internet (more public space than one "
                             f"/{DEFAULT_LIMIT['ipv4']} IPv4 or /{DEFAULT_LIMIT['ipv6']} IPv6 range); list your "
                             "office/VPN ranges instead")
        return cidrs

    @model_validator(mode="after")
    def _stack_references(self) -> EnvConfig:
        """What the program would build wrongly or not at all: every problem, one line each."""
        problems = [f"tags: {p}" for p in tag_problems(self.tags, self.allowed_clouds)]
        names = [t.name for t in self.teams]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"teams: names must be unique; repeated: {listing(dupes)}")
        for i, w in enumerate(self.workloads):
            if w.team is not None and w.team not in names:
                problems.append(f"workloads[{i}].team: {echo(w.team)} is not in teams{did_you_mean(w.team, names)}; "
                                f"valid: {listing(names)}")
        for i, d in enumerate(self.datasets):
            if d.home_cloud not in self.allowed_clouds:
                problems.append(f"datasets[{i}].homeCloud: {d.home_cloud!r} is not in allowedClouds, so the "
                                f"dataset would not be built; valid: {listing(self.allowed_clouds)}")
        problems += self._cache_problems()
        problems += self._budget_problems()
        problems += self._service_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _service_problems(self) -> list[str]:
        problems = []
        by_name = {w.name: w for w in self.workloads}
        served = [s.workload for s in self.services]
        for i, svc in enumerate(self.services):
            at = f"services[{i}]"
            w = by_name.get(svc.workload)
            if w is None or w.kind != "inference" or w.runs_on != "kubernetes":
                valid = [n for n, x in by_name.items() if x.kind == "inference" and x.runs_on == "kubernetes"]
                problems.append(f"{at}.workload: {echo(svc.workload)} is not an inference workload on Kubernetes"
                                f"{did_you_mean(svc.workload, valid)}; valid: {listing(valid)}")
                continue
            if served.count(svc.workload) > 1:
                problems.append(f"{at}.workload: {echo(svc.workload)} is served twice; one service per workload")
            low, high = replica_range(w, svc.nodes_per_replica)
            if self.profile == "production" and low < 2:
                problems.append(f"{at}.workload: {svc.workload!r} gives {low} replicas at its floor (nodes.min / "
                                f"nodesPerReplica {svc.nodes_per_replica}); a production profile serves from at "
                                "least 2 replicas, one per zone: raise the workload's nodes.min")
            if high < 1:
                problems.append(f"{at}.nodesPerReplica: {svc.nodes_per_replica} is more than the workload's "
                                "largest node count; valid: at most nodes.max")
            exposure = svc.exposure
            j = judge(exposure.allowed_cidrs)
            if j.invalid:
                problems.append(f"{at}.exposure.allowedCidrs: {listing(j.invalid)} are not CIDRs (e.g. 203.0.113.0/24)")
            elif j.open:
                problems.append(f"{at}.exposure.allowedCidrs: {j.describe()} opens the endpoint to the internet; "
                                "list the clients' ranges instead")
            elif exposure.public and not exposure.allowed_cidrs:
                problems.append(f"{at}.exposure.allowedCidrs: [] with public: true; a public inference endpoint "
                                "needs an allow-list (the clients' CIDRs), or leave public false (internal LB)")
        return problems

    def _cache_problems(self) -> list[str]:
        """Dataset caches checked as far as the config alone allows (components/planning/dataset_cache.py): the
        cloud offers the kind, at most 8 FSx associations, a `region` the dataset's residency allows and an FSx
        link that stays in the bucket's region. The program repeats the check with the placed region."""
        from newinfra.components.planning.dataset_cache import plan_cache
        from newinfra.errors import ComponentInputError

        problems = []
        for i, d in enumerate(self.datasets):
            if d.cache is None or d.home_cloud not in self.allowed_clouds:
                continue
            try:
                plan_cache(cloud=d.home_cloud, dataset=d.name, size_gb=d.size_gb, classification=d.classification,
                           region=d.cache.region or d.home_region, bucket_region=d.home_region,
                           residency={k: list(v) for k, v in self.data_residency.items()},
                           spec=d.cache.as_plan_spec())
            except ComponentInputError as exc:
                key = {"cloud": "kind", "classification": "region"}.get(exc.property_path, exc.property_path)
                problems.append(f"datasets[{i}].cache.{_camel_path(key)}: {exc.reason}")
        return problems

    def _budget_problems(self) -> list[str]:
        alerts = self.budget_alerts
        if alerts is None:
            return []
        problems = []
        if self.monthly_budget_usd is None:
            problems.append("budgetAlerts: thresholds are percents of monthlyBudgetUsd, which is not set; set "
                            "newinfra:monthlyBudgetUsd")
        if alerts.scope_tag not in self.tags:
            problems.append(f"budgetAlerts.scopeTag: {echo(alerts.scope_tag)} is not a key of newinfra:tags"
                            f"{did_you_mean(alerts.scope_tag, list(self.tags))}; valid: {listing(list(self.tags))}")
        if alerts.stop_gpu_at_percent is not None and not behaviour(self.profile).budget_may_stop_capacity:
            problems.append(f"budgetAlerts.stopGpuAtPercent: {alerts.stop_gpu_at_percent:g} is not for profile "
                            f"{self.profile} (a budget never stops its capacity); remove it or use profile "
                            "development")
        if alerts.stop_gpu_roles and alerts.stop_gpu_at_percent is None:
            problems.append(f"budgetAlerts.stopGpuRoles: {listing(alerts.stop_gpu_roles)} given without "
                            "stopGpuAtPercent; set the percent or remove the roles")
        if "gcp" in self.allowed_clouds and alerts.gcp_billing_account is None:
            problems.append("budgetAlerts.gcpBillingAccount: required key is missing (GCP is in allowedClouds and "
                            "a GCP budget lives in a billing account), e.g. gcpBillingAccount: 012345-6789AB-CDEF01")
        if "gcp" in self.allowed_clouds and len(alerts.recipients) > GCP_MAX_CHANNELS:
            problems.append(f"budgetAlerts.recipients: {len(alerts.recipients)} addresses; a GCP budget notifies "
                            f"at most {GCP_MAX_CHANNELS} channels")
        return problems

    @property
    def request(self) -> PlacementRequest:
        """The cost model's view: only the keys the optimizer reads (the config hash covers exactly these)."""
        fields = PlacementRequest.model_fields
        return PlacementRequest.model_validate({k: getattr(self, k) for k in fields})


def _camel_path(path: str) -> str:
    """``local_cache_gb`` -> ``localCacheGb``: a component's key as the config file spells it."""
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)


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


_SUBPATH = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\[[^\]]*\])?(\.[A-Za-z][A-Za-z0-9]*(\[[^\]]*\])?)*: ")


def format_validation_error(exc: ValidationError, model: type = EnvConfig) -> str:
    """One line per problem: the key path, the (truncated) bad value, what is valid."""
    lines = []
    errors = exc.errors()
    locs = [tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))) for e in errors]
    for err, loc in zip(errors, locs, strict=True):
        if err["type"] != "value_error" and any(o != loc and o[:len(loc)] == loc for o in locs):
            continue  # a container whose items are reported below it: the items say what is wrong
        where = _path(loc)
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            valid = _valid_keys(model, loc)
            lines.append(f"{where}: unknown key{did_you_mean(loc[-1], valid)}; valid keys here: {listing(valid)}")
        elif err["type"] == "missing":
            lines.append(f"{where}: required key is missing")
        elif isinstance(value, dict) and err["type"] == "value_error":
            # a check across keys: its message names the keys below ``where`` itself
            sep = ":" if where == NAMESPACE else "."
            lines += [f"{where}{sep}{line}" if _SUBPATH.match(line) else f"{where}: {line}"
                      for line in msg.splitlines()]
        else:
            hint = ""
            if err["type"] == "literal_error":
                hint = did_you_mean(value, re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", ""))))
            lines.append(f"{where}: {echo(value)} is not valid{hint}: {msg}")
    return "\n".join(lines)


def parse_config(raw: dict[str, Any], source: str) -> EnvConfig:
    """Validate the `newinfra:` keys (without the namespace). Raises ConfigError, one line per problem."""
    try:
        cfg = EnvConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_prefixed(source, format_validation_error(exc).splitlines())) from None
    from newinfra.config_catalog import check_against_catalog

    problems = check_against_catalog(cfg)
    if problems:
        raise ConfigError(_prefixed(source, problems))
    return cfg


def _prefixed(source: str, lines: list[str]) -> str:
    return "\n".join(f"{source}: {line}" for line in lines)


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


def read_namespaced(raw_config: Any, source: str) -> dict[str, Any]:
    """`newinfra:key` entries of a stack file's config, without the namespace; other namespaces ignored."""
    if not isinstance(raw_config, dict):
        raise ConfigError(f"{source}: config: {echo(raw_config)} is not valid: expected a mapping of "
                          f"namespaced keys such as {NAMESPACE}:environment")
    out = {}
    for key, value in raw_config.items():
        ns, _, name = str(key).partition(":")
        if not name:
            raise ConfigError(f"{source}: config key {echo(key)} has no namespace; write it as {NAMESPACE}:{key}")
        if ns == NAMESPACE:
            out[name] = value
    return out


def load_env_config(env: str, project: Project | None = None) -> EnvConfig:
    """Read and validate the project's Pulumi.<env>.yaml. Raises ConfigError."""
    project = _project(project)
    path = project.config_path(env)
    if not path.is_file():
        known = project.stacks()
        raise ConfigError(f"environment {env!r} has no stack file {path.name}{did_you_mean(env, known)}; "
                          f"valid environments: {listing(known)}")
    try:
        doc = load_yaml(path, "stack file")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{path.name}: {echo(doc)} is not valid: a stack file is a mapping with a config: key")
    raw = read_namespaced(doc.get("config") or {}, path.name)
    cfg = parse_config(raw, path.name)
    if cfg.environment != env:
        raise ConfigError(f"{path.name}: newinfra:environment is {cfg.environment!r}; it must be {env!r}")
    return cfg


def config_notes(cfg: EnvConfig) -> list[str]:
    """What the program does with the config that the config does not say: one line each, printed by plan and
    place. Outside prod accelerator pools scale to zero (components.planning.pools.plan_node_pool, and the
    accelerator-scale-to-zero policy asks for it), so a workload's nodes.min is not kept as a floor there."""
    if cfg.environment == "prod":
        return []
    return [f"newinfra:workloads[{i}].nodes.min: {w.nodes.min} is kept only in prod; in {cfg.environment} the "
            f"{w.name} pools scale to zero when idle (write min: 0 to say so)"
            for i, w in enumerate(cfg.workloads) if w.nodes is not None and w.nodes.min > 0]
