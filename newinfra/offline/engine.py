"""Run a Pulumi Python program in-process under the SDK's mock runtime and record what it registers.

The program runs as the language host runs it (inside ``run_in_stack``, with the stack's config set), so
stack outputs arrive through ``RegisterResourceOutputs`` as they would at the engine. Where the mock runtime
differs from the engine in ways that matter to a reviewer, the monitor behaves like the engine: URNs of
top-level resources carry no ``pulumi:pulumi:Stack$`` prefix, and a duplicate URN is an error.
It is a test harness and a PR check, not a deployment engine.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack, run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from newinfra.offline.mocks import OfflineError, ResourceMocks
from newinfra.offline.record import SECRET, Record

STACK_TYPE = "pulumi:pulumi:Stack"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # the SDK's marker for secret values


class RecordingMonitor(sdk_mocks.MockMonitor):
    """The SDK's mock monitor, recording each registration with its parent and provider."""

    mocks: ResourceMocks  # the SDK declares its base Mocks; ours also keeps provider regions

    def __init__(self, mocks: ResourceMocks, on_register: Callable[[int], None] | None = None) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, dict[str, Any]] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn = ""
        self.errors: list[str] = []
        self._on_register = on_register
        # The SDK registers from a thread pool: checking and claiming a URN must be one step.
        self._claim = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine does not qualify children of the root stack with the stack's type.
        if parent and parent.split("::")[2].split("$")[-1] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == STACK_TYPE:
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        with self._claim:
            duplicate = urn in self.registrations
            if not duplicate:
                self.registrations[urn] = {}
        if duplicate:
            message = f"duplicate resource URN {urn}: the engine refuses two resources with one name"
            # Recorded and raised once the run ends: raising inside the SDK's registration thread would
            # surface as an unretrieved future instead of one clear error.
            self.errors.append(message)
            return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=None)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=False)
        custom = bool(request.custom)
        args = sdk_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=request.provider,
            resource_id=request.importId, custom=custom,
        )
        args.urn = urn  # type: ignore[attr-defined]  # ids derive from the URN; the SDK's args carry none
        rid, state = self.mocks.new_resource(args)
        if request.type.startswith("pulumi:providers:"):
            self.mocks.provider_regions[f"{urn}::{rid}"] = inputs.get("region", "")
        self.registrations[urn] = {
            "urn": urn,
            "type": request.type,
            "name": request.name,
            "custom": custom,
            "parent": None if request.parent in ("", self.stack_urn) else request.parent,
            "provider": request.provider or None,
            "inputs": _plain(inputs),
            # What the engine hands policies too: which resources this one's inputs came from.
            "dependencies": sorted(set(request.dependencies)),
            "propertyDependencies": {k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items())
                                     if v.urns},
        }
        self.resources[urn] = sdk_mocks.MockMonitor.ResourceRegistration(urn, rid or "", state)
        if self._on_register:
            self._on_register(len(self.registrations))
        obj = _sync_await(rpc.serialize_properties(state, {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid or "", object=obj)

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn == self.stack_urn:
            _ensure_event_loop()
            self.stack_outputs = _plain(rpc.deserialize_properties(request.outputs, keep_unknowns=False))
        return super().RegisterResourceOutputs(request)


def _plain(value: Any) -> Any:
    """JSON-ready values: secrets masked, keys sorted by the writer."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:  # noqa: SLF001
            return SECRET
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def read_project(cwd: Path) -> dict[str, Any]:
    path = cwd / "Pulumi.yaml"
    if not path.is_file():
        raise OfflineError(f"{path} does not exist: --cwd must name a Pulumi project directory")
    project = yaml.safe_load(path.read_text()) or {}
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise OfflineError(f"{path}: runtime is {runtime_name!r}; the offline engine runs only 'python' programs")
    return project


def stack_config_path(cwd: Path, project: dict[str, Any], stack: str) -> Path:
    return cwd / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


def read_stack_config(cwd: Path, stack: str) -> dict[str, Any]:
    """The stack's config as the engine hands it to the program: namespaced keys, JSON for objects."""
    project = read_project(cwd)
    path = stack_config_path(cwd, project, stack)
    if not path.is_file():
        raise OfflineError(f"{path} does not exist: no stack {stack!r} in {cwd}")
    raw = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    config = {}
    for key, value in raw.items():
        full = key if ":" in key else f"{project['name']}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise OfflineError(f"{path}: {full} is an encrypted secret; the offline engine cannot decrypt it")
        config[full] = value
    return config


@contextlib.contextmanager
def _program_context(cwd: Path, program_dir: Path) -> Iterator[None]:
    """cwd and sys.path as the language host sets them; restored afterwards."""
    old_cwd, old_path = Path.cwd(), list(sys.path)
    os.chdir(cwd)
    sys.path.insert(0, str(program_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def run_program(
    cwd: Path,
    stack: str,
    *,
    config: dict[str, Any] | None = None,
    on_register: Callable[[int], None] | None = None,
) -> Record:
    """Run the Pulumi program in ``cwd`` for ``stack`` under mocks; return its record.

    ``config`` replaces the stack file's config (tests use it); otherwise Pulumi.<stack>.yaml is read.
    """
    cwd = Path(cwd).resolve()
    project = read_project(cwd)
    stack_config = read_stack_config(cwd, stack) if config is None else config
    main = cwd / project.get("main", ".")
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file():
        raise OfflineError(f"{entry} does not exist: Pulumi.yaml's main must name the program")

    with _program_context(cwd, entry.parent):
        return _run(project["name"], stack, stack_config,
                    lambda: runpy.run_path(str(entry), run_name="__main__"), on_register)


def run_callable(
    body: Callable[[], Any],
    *,
    project: str = "test",
    stack: str = "test",
    config: dict[str, Any] | None = None,
) -> Record:
    """Run ``body`` (which creates resources and may call pulumi.export) as a program; return its record.

    For component tests: the same monitor, mocks and record as ``run_program``.
    """
    return _run(project, stack, config or {}, body, None)


def _run(project: str, stack: str, config: dict[str, Any], body: Callable[[], Any],
         on_register: Callable[[int], None] | None) -> Record:
    monitor = RecordingMonitor(ResourceMocks({}), on_register=on_register)
    settings.configure(sdk_mocks.MockSettings(
        monitor=monitor,
        monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
        engine=sdk_mocks.MockEngine(logging.getLogger("newinfra.offline")),
        project=project, stack=stack, dry_run=False, organization="organization", callbacks=None,
    ))
    set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}, secret_keys=[])
    _sync_await(run_pulumi_func(lambda: run_in_stack(body)))
    if monitor.errors:
        raise OfflineError("; ".join(monitor.errors))
    resources = sorted(monitor.registrations.values(), key=lambda r: r["urn"])
    return Record(project=project, stack=stack, resources=resources,
                  outputs=monitor.stack_outputs, config=dict(sorted(config.items())))
