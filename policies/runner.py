"""Evaluate the packs over a recorded stack through pulumi-policy's own analyzer code paths.

The record's resources become the ``AnalyzeRequest`` / ``AnalyzeStackRequest`` messages the engine would
send; pulumi-policy's analyzer servicer (private API, pinned: see ``PINNED_POLICY_SDK``) deserialises them,
wraps them in its unknown-value proxy, applies enforcement levels and runs remediations, exactly as it does
behind ``pulumi preview --policy-pack``. What the CLI does before that (expanding ``all``, schema defaults,
schema validation) is in newinfra.policies.config.

Speed: the CLI sends every resource to every resource policy, and the servicer deserialises the resource
once per policy (and the whole stack once per stack policy). Each rule declares the types it reads
(``resource_types``), so the runner hands a resource only to the policies that read its type; and it
deserialises each resource once, with the servicer's own functions, and gives the same read-only properties
to every policy, running the rest of Analyze / AnalyzeStack step for step (see _analyze_resources). Results
are the same as the servicer's own path (``engine_path=True``, held equal by tests/policies/
test_runner_shared_path.py); 10,000 resources take a fraction of the time. Under ``pulumi preview
--policy-pack`` nothing of this runs: the packs are served by pulumi-policy itself.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing as mp
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format, struct_pb2
from newinfra.policies.config import (
    PolicySettings,
    check_names,
    effective_environment,
    resolve,
    stack_defaults,
    stack_value,
)
from newinfra.policies.packs import Pack, level_for, packs
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
from pulumi_policy.version import VERSION as POLICY_SDK_VERSION

PINNED_POLICY_SDK = "1.21."  # _PolicyAnalyzerServicer is private: re-check runner tests before moving on
LEVEL_NAMES = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory", proto.REMEDIATE: "remediate",
               proto.DISABLED: "disabled"}
LEVEL_CODES = {EnforcementLevel.ADVISORY: proto.ADVISORY, EnforcementLevel.MANDATORY: proto.MANDATORY,
               EnforcementLevel.REMEDIATE: proto.REMEDIATE, EnforcementLevel.DISABLED: proto.DISABLED}
PACK_VERSION = "0.1.0"


@dataclass(frozen=True, order=True)
class Violation:
    pack: str
    policy: str
    urn: str
    message: str
    level: str
    resource: str
    resource_type: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"policy": self.policy, "pack": self.pack, "level": self.level, "urn": self.urn,
                "resource": self.resource, "message": self.message}


@dataclass(frozen=True, order=True)
class Remediation:
    pack: str
    policy: str
    urn: str
    resource: str


@dataclass
class Evaluation:
    project: str
    stack: str
    environment: str | None
    violations: list[Violation] = field(default_factory=list)
    remediations: list[Remediation] = field(default_factory=list)
    not_applicable: list[tuple[str, str, str]] = field(default_factory=list)  # pack, policy, reason
    exemptions: list[tuple[str, str, str, str]] = field(default_factory=list)  # pack, policy, resource, reason
    levels: dict[str, dict[str, str]] = field(default_factory=dict)  # pack -> policy -> level
    descriptions: dict[str, str] = field(default_factory=dict)  # policy -> description
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # policy -> its resolved properties
    resource_count: int = 0

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    @property
    def passed(self) -> bool:
        return not self.mandatory


def check_pin() -> None:
    if not POLICY_SDK_VERSION.startswith(PINNED_POLICY_SDK):
        raise RuntimeError(f"pulumi-policy {POLICY_SDK_VERSION} is installed; the offline runner drives its "
                           f"private analyzer and is tested with {PINNED_POLICY_SDK}x only")


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(values))
    return s


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


class _Resources:
    """The record's resources as analyzer messages, built once."""

    def __init__(self, resources: Iterable[Mapping[str, Any]],
                 stack_config: Mapping[str, Any] | None = None) -> None:
        self.items = sorted(resources, key=lambda r: r["urn"])
        self.stack_config = stack_config or {}
        self.by_urn = {r["urn"]: r for r in self.items}
        self.props = {r["urn"]: _struct(r.get("inputs") or {}) for r in self.items}
        self.types = {r["urn"]: r["type"] for r in self.items}
        self._providers: dict[str, proto.AnalyzerProviderResource | None] = {}
        self._parts: dict[str, _Parts] = {}  # filled after remediation, per process (see parts)
        self._policy_options: dict[str, PolicyResourceOptions] = {}
        self._policy_providers: dict[str, PolicyProviderResource] = {}

    def provider(self, r: Mapping[str, Any]) -> proto.AnalyzerProviderResource | None:
        urn = (r.get("provider") or "").rsplit("::", 1)[0]
        if not urn:
            return self._default_provider(r["type"].split(":", 1)[0])
        if urn not in self._providers:
            p = self.by_urn.get(urn)
            self._providers[urn] = None if p is None else proto.AnalyzerProviderResource(
                type=p["type"], properties=self.props[urn], urn=urn, name=p["name"])
        return self._providers[urn]

    def _default_provider(self, package: str) -> proto.AnalyzerProviderResource | None:
        """The default provider the engine creates for a package, configured from the stack (its
        ``aws:region``, ``aws:defaultTags``, ...): what a policy sees as ``args.provider`` under the CLI."""
        key = f"default:{package}"
        if key not in self._providers:
            from newinfra.providers import provider_defaults

            settings = provider_defaults(dict(self.stack_config)).get(package)
            self._providers[key] = None if not settings else proto.AnalyzerProviderResource(
                type=f"pulumi:providers:{package}", properties=_struct(settings), name="default",
                urn=f"urn:pulumi:stack::project::pulumi:providers:{package}::default")
        return self._providers[key]

    def options(self, r: Mapping[str, Any]) -> proto.AnalyzerResourceOptions:
        return proto.AnalyzerResourceOptions(parent=r.get("parent") or "")

    def request(self, r: Mapping[str, Any]) -> proto.AnalyzeRequest:
        req = proto.AnalyzeRequest(type=r["type"], properties=self.props[r["urn"]], urn=r["urn"], name=r["name"],
                                   options=self.options(r))
        provider = self.provider(r)
        if provider is not None:
            req.provider.CopyFrom(provider)
        return req

    def stack_resource(self, r: Mapping[str, Any]) -> proto.AnalyzerResource:
        msg = proto.AnalyzerResource(type=r["type"], properties=self.props[r["urn"]], urn=r["urn"], name=r["name"],
                                     options=self.options(r), parent=r.get("parent") or "",
                                     dependencies=list(r.get("dependencies") or []))
        for key, urns in (r.get("propertyDependencies") or {}).items():
            msg.propertyDependencies[key].urns.extend(urns)
        provider = self.provider(r)
        if provider is not None:
            msg.provider.CopyFrom(provider)
        return msg

    def parts(self, r: Mapping[str, Any], servicer: _PolicyAnalyzerServicer) -> _Parts:
        """What pulumi-policy's servicer derives from a resource before a policy sees it: its properties
        deserialised and wrapped in the unknown-checking proxy, its options, its provider.

        The servicer redoes this for every policy in Analyze, and for every stack policy and every resource
        in AnalyzeStack (17 stack policies: 17 times over the stack, most of the run). It depends on the
        resource only, so it is done once here, by the servicer's own functions on the same messages
        (``props``, ``options``, ``provider``), and the read-only result is shared by every policy. Called
        only after remediation, which replaces ``props``; the cache lives in the process that fills it.
        """
        urn = r["urn"]
        found = self._parts.get(urn)
        if found is None:
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(self.props[urn])))
            parent = r.get("parent") or ""
            options = self._policy_options.get(parent)
            if options is None:  # one per parent: siblings' options are equal
                options = self._policy_options[parent] = servicer._get_resource_options(
                    proto.AnalyzeRequest(options=self.options(r)))
            provider = None
            message = self.provider(r)
            if message is not None:
                provider = self._policy_providers.get(message.urn)
                if provider is None:  # one per provider: every resource of it sees the same settings
                    provider = self._policy_providers[message.urn] = servicer._get_provider_resource(
                        proto.AnalyzeRequest(provider=message))
            found = self._parts[urn] = _Parts(r["type"], urn, r["name"], props, options, provider, parent,
                                              tuple(r.get("dependencies") or ()),
                                              dict(r.get("propertyDependencies") or {}))
        return found


@dataclass(frozen=True)
class _Parts:
    type: str
    urn: str
    name: str
    props: Any
    options: PolicyResourceOptions
    provider: PolicyProviderResource | None
    parent: str
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, list[str]]


class _PackRun:
    """One pack's servicers, configured as the CLI would, split by the resource types policies read."""

    def __init__(self, pack: Pack, settings: dict[str, PolicySettings], default_level: EnforcementLevel) -> None:
        self.pack = pack
        self.settings = settings
        self.default_level = default_level
        self.configure = proto.ConfigureAnalyzerRequest()
        for name, s in settings.items():
            cfg = proto.PolicyConfig(enforcementLevel=LEVEL_CODES[s.level])
            cfg.properties.update(s.properties)
            self.configure.policyConfig[name].CopyFrom(cfg)
        self._servicers: dict[tuple[str, ...], _PolicyAnalyzerServicer] = {}
        active = [p for p in pack.policies if settings[p.name].level != EnforcementLevel.DISABLED]
        self.resource_policies = [p for p in active if isinstance(p, ResourceValidationPolicy)]
        self.stack_policies = [p for p in active if isinstance(p, StackValidationPolicy)]
        self._by_type: dict[str, list[Any]] = {}

    def servicer(self, policies: list[Any]) -> _PolicyAnalyzerServicer:
        key = tuple(p.name for p in policies)
        if key not in self._servicers:
            s = _PolicyAnalyzerServicer(self.pack.name, PACK_VERSION, list(policies), self.default_level)
            s.Configure(self.configure, None)
            self._servicers[key] = s
        return self._servicers[key]

    def for_type(self, resource_type: str) -> list[Any]:
        if resource_type not in self._by_type:
            self._by_type[resource_type] = [p for p in self.resource_policies if _wants(p, resource_type)]
        return self._by_type[resource_type]

    def remediating(self, policies: list[Any]) -> list[Any]:
        return [p for p in policies if self.settings[p.name].level == EnforcementLevel.REMEDIATE
                and p.has_remediation()]


def _wants(policy: Any, resource_type: str) -> bool:
    """Whether a policy reads resources of this type (rules declare ``resource_types``; None: all)."""
    wanted = getattr(policy, "resource_types", None)
    return wanted is None or resource_type in wanted


def _analyzable(r: Mapping[str, Any]) -> bool:
    """The engine analyzes custom resources; providers and components only appear in stack analysis."""
    return bool(r.get("custom", True)) and not r["type"].startswith("pulumi:providers:")


def evaluate(
    resources: Iterable[Mapping[str, Any]],
    stack_config: Mapping[str, Any] | None = None,
    *,
    project: str = "",
    stack: str = "",
    environment: str | None = None,
    policy_config: Mapping[str, Any] | None = None,
    selected: Iterable[Pack] | None = None,
    workers: int | None = None,
    engine_path: bool = False,
) -> Evaluation:
    """Run both packs (or ``selected``) over recorded resources; see module docstring.

    As the engine does, every pack's remediations run first and analysis sees the remediated inputs.
    Analysis jobs are independent, so large stacks spread them over ``workers`` forked processes
    (default: the CPUs, for 2,000 resources or more); results are merged and sorted, so the outcome does
    not depend on the number of workers. ``engine_path`` sends every request through the servicer's own
    Analyze / AnalyzeStack instead of the shared-deserialisation path (same findings, slower: the tests and
    the benchmark compare the two).
    """
    check_pin()
    common.EXEMPTIONS_VISIBLE = True  # this runner files exemptions apart (see rules.common.EXEMPT)
    stack_config = stack_config or {}
    common.STACK_CONFIG = dict(stack_config)  # what PULUMI_CONFIG holds under the CLI (the bill's egress)
    chosen = tuple(selected) if selected is not None else packs()
    check_names(policy_config or {}, chosen)
    env = environment or effective_environment(stack, stack_value(stack_config, "environment"), chosen,
                                               policy_config)
    defaults = stack_defaults(stack_config, env, policy_config)
    data = _Resources(resources, stack_config)
    result = Evaluation(project=project, stack=stack, environment=env, resource_count=len(data.items))
    runs = []
    for pack in chosen:
        settings = resolve(pack, env, defaults, policy_config)
        runs.append(_PackRun(pack, settings, level_for(pack.name, env)))
        result.levels[pack.name] = {n: s.level.value for n, s in sorted(settings.items())}
        result.settings.update({n: dict(s.properties) for n, s in sorted(settings.items())})
        result.descriptions.update({p.name: p.description for p in pack.policies})
    for run in runs:
        _remediate(run, data, result)
    # Largest first (a stack policy reads up to every resource), so workers finish together.
    counts = Counter(data.types.values())
    sizes = {(i, j): sum(n for t, n in counts.items() if _wants(p, t))
             for i, run in enumerate(runs) for j, p in enumerate(run.stack_policies)}
    jobs = [(i, "stack", j) for (i, j) in sorted(sizes, key=lambda k: (-sizes[k], k))]
    jobs += [(i, "resources", k) for i, run in enumerate(runs) for k in range(RESOURCE_CHUNKS)]
    # Analysis allocates a few objects per property of every resource and frees them by reference counting;
    # with the cyclic collector on, each of its full passes walks the whole record again (a third of the run
    # at 10,000 resources). Off for the analysis only, restored after (forked workers inherit it).
    collecting = gc.isenabled()
    gc.disable()
    try:
        outcomes = _run_jobs(runs, data, result.stack, jobs, workers, engine_path)
    finally:
        if collecting:
            gc.enable()
    for violations, not_applicable, exemptions in outcomes:
        result.violations.extend(violations)
        result.not_applicable.extend(not_applicable)
        result.exemptions.extend(exemptions)
    result.violations.sort()
    result.exemptions.sort()
    result.remediations.sort()
    result.not_applicable.sort()
    return result


RESOURCE_CHUNKS = 8  # resource analysis is split into this many jobs (by position), so workers share it
PARALLEL_FROM = 2000  # resources; below this a fork costs more than it saves
_JOB_STATE: tuple | None = None  # (runs, data, stack, engine_path) inherited by forked workers


def _run_jobs(runs: list[_PackRun], data: _Resources, stack: str, jobs: list[tuple[int, str, int]],
              workers: int | None, engine_path: bool = False,
              ) -> list[tuple[list[Violation], list[tuple[str, str, str]], list]]:
    global _JOB_STATE
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(data.items) < PARALLEL_FROM or "fork" not in mp.get_all_start_methods():
        return [_job(runs, data, stack, job, engine_path) for job in jobs]
    if not engine_path:
        # Derive every resource's parts here, once, before forking: the workers share them (copy-on-write)
        # instead of each deriving them again for its own jobs (less work in all on a busy machine).
        for run in runs:
            policies = run.stack_policies + run.resource_policies
            read = {t for t in set(data.types.values()) if any(_wants(p, t) for p in policies)}
            servicer = run.servicer(policies) if read else None
            for r in data.items:
                if r["type"] in read:
                    data.parts(r, servicer)
    _JOB_STATE = (runs, data, stack, engine_path)
    try:
        with mp.get_context("fork").Pool(min(count, len(jobs))) as pool:
            return pool.map(_forked_job, jobs, chunksize=1)
    finally:
        _JOB_STATE = None


def _forked_job(job: tuple[int, str, int]):
    runs, data, stack, engine_path = _JOB_STATE
    return _job(runs, data, stack, job, engine_path)


def _job(runs: list[_PackRun], data: _Resources, stack: str, job: tuple[int, str, int], engine_path: bool = False):
    index, kind, part = job
    run = runs[index]
    out = _Collected(run.pack, stack, data.types)
    if kind == "resources":
        analyze = _engine_analyze_resources if engine_path else _analyze_resources
        analyze(run, data, out, data.items[part::RESOURCE_CHUNKS])
    else:
        analyze = _engine_analyze_stack_policy if engine_path else _analyze_stack_policy
        analyze(run, data, out, run.stack_policies[part])
    return out.violations, out.not_applicable, out.exemptions


from newinfra.policies.rules import common  # noqa: E402 (next to its uses)
from newinfra.policies.rules.common import EXEMPT, NOT_EVALUATED  # noqa: E402


class _Collected:
    """Diagnostics of analyzer responses as Violations (description prefix removed from messages)."""

    def __init__(self, pack: Pack, stack: str, types: Mapping[str, str]) -> None:
        self.pack, self.stack, self.types = pack, stack, types
        self.descriptions = {p.name: p.description for p in pack.policies}
        self.violations: list[Violation] = []
        self.not_applicable: list[tuple[str, str, str]] = []
        self.exemptions: list[tuple[str, str, str, str]] = []

    def add(self, response: Any, default_urn: str) -> None:
        for d in response.diagnostics:
            urn = d.urn or default_urn
            message = d.message
            prefix = self.descriptions.get(d.policyName, "")
            if prefix and message.startswith(prefix):
                message = message[len(prefix):].lstrip("\n") or prefix
            if message.startswith(NOT_EVALUATED):  # the rule could not read the input: no verdict
                self.not_applicable.append((self.pack.name, d.policyName,
                                            f"{_name_of(urn) or self.stack}: {message}"))
                continue
            if message.startswith(EXEMPT):  # allowed by the platform's config: shown, never failing
                self.exemptions.append((self.pack.name, d.policyName, _name_of(urn) or self.stack,
                                        message[len(EXEMPT):].strip()))
                continue
            self.violations.append(Violation(self.pack.name, d.policyName, urn, message,
                                             LEVEL_NAMES[d.enforcementLevel], _name_of(urn) or self.stack,
                                             self.types.get(urn, "")))
        for n in response.not_applicable:
            self.not_applicable.append((self.pack.name, n.policy_name, n.reason))


def _remediate(run: _PackRun, data: _Resources, result: Evaluation) -> None:
    """The pack's remediations, applied to the inputs every later analysis sees."""
    for r in data.items:
        fixers = run.remediating(run.for_type(r["type"])) if _analyzable(r) else []
        if not fixers:
            continue
        response = run.servicer(fixers).Remediate(data.request(r), None)
        for rem in response.remediations:
            if rem.properties.fields:
                data.props[r["urn"]] = rem.properties
                result.remediations.append(Remediation(run.pack.name, rem.policyName, r["urn"], r["name"]))


def _engine_analyze_resources(run: _PackRun, data: _Resources, out: _Collected,
                              items: list[Mapping[str, Any]]) -> None:
    """Each resource through the servicer's own Analyze (the reference the shared path is tested against)."""
    for r in items:
        policies = run.for_type(r["type"]) if _analyzable(r) else []
        if policies:
            out.add(run.servicer(policies).Analyze(data.request(r), None), r["urn"])


def _engine_analyze_stack_policy(run: _PackRun, data: _Resources, out: _Collected, policy: Any) -> None:
    """One stack policy through the servicer's own AnalyzeStack (the reference for the shared path)."""
    chosen = [r for r in data.items if _wants(policy, r["type"])]
    request = proto.AnalyzeStackRequest(resources=[data.stack_resource(r) for r in chosen])
    out.add(run.servicer([policy]).AnalyzeStack(request, None), "")


# The shared path below is _PolicyAnalyzerServicer.Analyze / AnalyzeStack of pulumi-policy 1.21 (pinned,
# PINNED_POLICY_SDK), step for step, except that a resource's properties, options and provider come from
# _Resources.parts (derived once, by the servicer's own functions) instead of being derived again for every
# policy. Enforcement levels, config, report_violation, unknown values and not_applicable go through the
# servicer's own methods. tests/policies/test_runner_shared_path.py holds it equal to the engine path.
def _analyze_resources(run: _PackRun, data: _Resources, out: _Collected, items: list[Mapping[str, Any]]) -> None:
    for r in items:
        policies = run.for_type(r["type"]) if _analyzable(r) else []
        if not policies:
            continue
        servicer = run.servicer(policies)
        parts = data.parts(r, servicer)
        servicer._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        for policy in policies:
            level = servicer._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            if level == EnforcementLevel.REMEDIATE:  # a remediated resource still failing: mandatory
                level = EnforcementLevel.MANDATORY
            report = servicer._create_report_violation(response, policy.name, policy.description, level,
                                                       policy.severity)
            args = ResourceValidationArgs(parts.type, parts.props, parts.urn, parts.name, parts.options, parts.provider,
                                          servicer._get_policy_config(policy.name), _stack_tags(servicer))
            _call(servicer, run.pack.name, policy, response, lambda p=policy, a=args, rep=report: p.validate(a, rep))
        out.add(response, r["urn"])


def _analyze_stack_policy(run: _PackRun, data: _Resources, out: _Collected, policy: Any) -> None:
    servicer = run.servicer([policy])
    servicer._configure_runtime_settings()
    response = proto.AnalyzeResponse()
    level = servicer._get_enforcement_level(policy)
    if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
        out.add(response, "")
        return
    if level == EnforcementLevel.REMEDIATE:  # stack policies cannot be remediated
        level = EnforcementLevel.MANDATORY
    report = servicer._create_report_violation(response, policy.name, policy.description, level, policy.severity)
    wanted = {t: _wants(policy, t) for t in set(data.types.values())}
    resources = _policy_resources([data.parts(r, servicer) for r in data.items if wanted[r["type"]]])
    args = StackValidationArgs(resources, servicer._get_policy_config(policy.name), _stack_tags(servicer))
    _call(servicer, run.pack.name, policy, response, lambda: policy.validate(args, report))
    out.add(response, "")


def _policy_resources(parts: list[_Parts]) -> list[PolicyResource]:
    """AnalyzeStack's PolicyResources for one request: new objects over the shared properties, then parent,
    dependencies and property dependencies linked among the resources of this request only."""
    resources = [PolicyResource(p.type, p.props, p.urn, p.name, p.options, p.provider, None, [], {})
                 for p in parts]
    by_urn = {r.urn: r for r in resources}
    for r, p in zip(resources, parts, strict=True):
        if p.parent in by_urn:
            r.parent = by_urn[p.parent]
        r.dependencies.extend(by_urn[d] for d in p.dependencies if d in by_urn)
        for key, urns in p.property_dependencies.items():  # keys in record order (no rule iterates them)
            r.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
    return resources


def _stack_tags(servicer: _PolicyAnalyzerServicer) -> Mapping[str, str]:
    return servicer._PolicyAnalyzerServicer__stack_tags  # type: ignore[attr-defined]  # set by ConfigureStack


def _call(servicer: _PolicyAnalyzerServicer, pack_name: str, policy: Any, response: Any, validate) -> None:
    """Run a validation as the servicer does: awaitables to completion, unknown values during preview as an
    advisory diagnostic, not_applicable() as a PolicyNotApplicable."""
    try:
        result = validate()
        if isawaitable(result):
            loop = asyncio.new_event_loop()
            loop.run_until_complete(asyncio.Task(result, loop=loop))
            loop.close()
    except UnknownValueError as e:
        response.diagnostics.append(proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=pack_name, policyPackVersion=PACK_VERSION,
            message=(f"can't run policy '{policy.name}' from policy pack '{pack_name}@v{PACK_VERSION}' during "
                     f"preview: {e.message}"),
            urn="", description=policy.description,
            enforcementLevel=servicer._map_enforcement_level(EnforcementLevel.ADVISORY)))
    except _NotApplicableError as e:
        response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=e.reason or ""))
