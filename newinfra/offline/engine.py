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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi import Archive, Asset
from pulumi.output import Unknown
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from newinfra.offline import assets, invoke_forms, secrets
from newinfra.offline.mocks import OfflineError, ResourceMocks
from newinfra.offline.transforms import TransformError, Transforms
from newinfra.providers import PROVIDER_ENV, provider_defaults  # noqa: F401 - the engine's config reaches them
from newinfra.record import SECRET, UNKNOWN, Record

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
        self.remote_components: list[str] = []
        self._on_register = on_register
        # The SDK registers from a thread pool: checking and claiming a URN must be one step.
        self._claim = threading.Lock()
        self.transforms = Transforms()

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
        try:  # new-style transforms, as the engine runs them before it registers (transforms.py)
            obj, provider = self.transforms.apply(request, urn, request.parent)
        except TransformError as e:
            self.errors.append(str(e))
            return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=None)
        props = _refs_to_urns(obj, remote=bool(request.remote))
        inputs = rpc.deserialize_properties(props, keep_unknowns=True)
        custom = bool(request.custom)
        if request.remote:
            # A multi-language component runs in its own plugin, which the offline engine does not have:
            # its children and outputs are not known here. Answering at once (no outputs) is what keeps
            # the program from waiting forever on outputs nobody will resolve.
            self.remote_components.append(request.type)
        args = sdk_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=inputs, provider=provider,
            resource_id=request.importId, custom=custom,
        )
        args.urn = urn  # type: ignore[attr-defined]  # ids derive from the URN; the SDK's args carry none
        rid, state = (None, {}) if request.remote else self.mocks.new_resource(args)
        if request.type.startswith("pulumi:providers:"):
            self.mocks.provider_regions[f"{urn}::{rid}"] = inputs.get("region", "")
        self.registrations[urn] = {
            "urn": urn,
            "type": request.type,
            "name": request.name,
            "custom": custom,
            "parent": None if request.parent in ("", self.stack_urn) else request.parent,
            "provider": provider or None,
            "inputs": _plain(inputs),
            **({"remote": True} if request.remote else {}),
            # What the engine hands policies too: which resources this one's inputs came from.
            "dependencies": sorted(set(request.dependencies)),
            "propertyDependencies": {k: sorted(set(v.urns)) for k, v in sorted(request.propertyDependencies.items())
                                     if v.urns},
        }
        self.resources[urn] = sdk_mocks.MockMonitor.ResourceRegistration(urn, rid or "", state)
        if self._on_register:
            self._on_register(len(self.registrations))
        obj = _sync_await(rpc.serialize_properties(_known(state), {}))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=rid or "", object=obj)

    def Invoke(self, request):  # noqa: N802
        response = super().Invoke(request)
        form = invoke_forms.FORM.get()
        if form and form["output"] and form["unknown"]:
            # What the engine answers an invoke it cannot serve: the program's Output is unknown.
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return response

    def RegisterStackTransform(self, request):  # noqa: N802
        self.transforms.register_stack(request.token)
        return super().RegisterStackTransform(request)

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn == self.stack_urn:
            _ensure_event_loop()
            self.stack_outputs = _plain(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
        return super().RegisterResourceOutputs(request)


def _refs_to_urns(props: Any, remote: bool = True) -> Any:
    """Inputs with resource references replaced: by the URN for a remote component, else as the engine
    hands them to a provider (a custom resource's id, unknown while it is not created; a component's URN).

    The SDK sends resources to a multi-language component as references; deserializing one rebuilds the
    resource (``Role.get`` by URN), which registers again from inside this registration and never returns:
    the hang of a program that passes an ``aws.iam.Role`` to pulumi-eks's Cluster. A custom resource passed
    where a provider takes a string (``BucketObject(bucket=bucket)``) would otherwise reach the record as a
    Python object.
    """
    from google.protobuf import json_format, struct_pb2

    if rpc._special_resource_sig.encode() not in props.SerializeToString():  # noqa: SLF001 - the usual case
        return props

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if v.get(rpc._special_sig_key) == rpc._special_resource_sig:  # noqa: SLF001
                if remote or "id" not in v:
                    return v.get("urn", "")
                return v["id"] or rpc.UNKNOWN
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    out = struct_pb2.Struct()
    json_format.ParseDict(walk(json_format.MessageToDict(props)), out)
    return out


def _known(state: dict[str, Any]) -> dict[str, Any]:
    """A resource's state as the monitor answers it: inputs still unknown in a preview stay out, so the
    SDK resolves those outputs as unknown (what the engine does for a value a provider cannot know yet)."""
    return {k: v for k, v in state.items() if not _has_unknown(v)}


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    """JSON-ready values: secrets masked, unknowns as the engine's marker, assets by kind and hash."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Asset | Archive):
        return assets.describe(value)
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:  # noqa: SLF001
            return SECRET
        if value.get(rpc._special_sig_key) in assets.SIGS:  # noqa: SLF001
            return assets.describe_wire(value)
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _load_yaml(path: Path) -> Any:
    """The CLI's one YAML reader (bounded aliases and depth, duplicate keys refused), as an OfflineError."""
    from newinfra.inputs import InputError, load_yaml

    try:
        return load_yaml(path)
    except InputError as err:
        raise ProjectFileError(str(err)) from None


def read_project(cwd: Path) -> dict[str, Any]:
    path = cwd / "Pulumi.yaml"
    if not path.is_file():
        raise OfflineError(f"{path} does not exist: --cwd must name a Pulumi project directory")
    project = _load_yaml(path) or {}
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise ProjectFileError(f"{path}: a project file needs a 'name' (a string) and a 'runtime'")
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectFileError(f"{path}: runtime is {runtime_name!r}; the offline engine runs only 'python' "
                               "programs")
    return project


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def stack_config_path(cwd: Path, project: dict[str, Any], stack: str) -> Path:
    return cwd / project.get("stackConfigDir", ".") / f"Pulumi.{stack}.yaml"


class ProjectFileError(OfflineError):
    """Pulumi.yaml or the stack file is missing or malformed: bad input (exit 2), not a program error."""


class ProgramMissing(ProjectFileError):
    """Pulumi.yaml's main names no program file: a project of configs and locks only."""


@dataclass
class StackConfig:
    """The stack's config as the engine hands it to the program.

    ``values`` holds what the program reads (decrypted secrets included); ``secret_keys`` the keys whose
    values are secrets (masked in every output); ``unknown`` the secret keys that could not be decrypted
    offline (the program gets an unknown secret for each).
    """

    values: dict[str, Any]
    secret_keys: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def recorded(self) -> dict[str, Any]:
        """What config.json holds: every secret masked, so neither plaintext nor ciphertext is written."""
        return {k: SECRET if k in self.secret_keys else v for k, v in sorted(self.values.items())}


def read_stack_config(cwd: Path, stack: str) -> dict[str, Any]:
    """The stack's config with secrets masked (what the record and the policies see)."""
    return load_stack_config(cwd, stack).recorded()


def load_stack_config(cwd: Path, stack: str) -> StackConfig:
    """Pulumi.<stack>.yaml's config: namespaced keys; ``secure:`` values decrypted with the passphrase
    provider when PULUMI_CONFIG_PASSPHRASE(_FILE) is set, else left unknown with a warning."""
    project = read_project(cwd)
    path = stack_config_path(cwd, project, stack)
    if not path.is_file():
        raise ProjectFileError(f"{path} does not exist: no stack {stack!r} in {cwd}")
    doc = _load_yaml(path) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config") or {}, dict):
        raise ProjectFileError(f"{path}: 'config' must be a mapping of keys to values")
    raw = doc.get("config") or {}
    key = None
    if any(_is_secure(v) for v in raw.values()) and doc.get("encryptionsalt"):
        try:
            key = secrets.passphrase_key(path, str(doc["encryptionsalt"]))
        except secrets.SecretError as e:
            raise ProjectFileError(str(e)) from None
    out = StackConfig(values={})
    for name, value in raw.items():
        full = name if ":" in name else f"{project['name']}:{name}"
        if _is_secure(value):
            out.secret_keys.append(full)
            plaintext = None
            if key is not None:
                try:
                    plaintext = secrets.decrypt_value(key, str(value["secure"]))
                except ValueError:
                    raise ProjectFileError(f"{path}: {full}'s secure value does not decrypt with this stack's "
                                           "passphrase") from None
            if plaintext is None:
                out.unknown.append(full)
                out.values[full] = SECRET
            else:
                out.values[full] = plaintext
            continue
        out.values[full] = value
    return out


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


@contextlib.contextmanager
def _program_context(workdir: Path, program_dir: Path) -> Iterator[None]:
    """cwd and sys.path as the language host sets them; restored afterwards."""
    old_cwd, old_path = Path.cwd(), list(sys.path)
    os.chdir(workdir)
    sys.path.insert(0, str(program_dir))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


def program_entry(cwd: Path, project: dict[str, Any]) -> tuple[Path, Path]:
    """(working directory, entry file) as the engine's getPwdMain picks them: ``main`` is relative and
    inside the project; a directory becomes the working directory, a file's directory does."""
    main_setting = str(project.get("main") or ".")
    pyproject = cwd / "Pulumi.yaml"
    if Path(main_setting).is_absolute():
        raise ProjectFileError(f"{pyproject}: main {main_setting!r} must be a relative path")
    main = (cwd / main_setting).resolve()
    if not main.is_relative_to(cwd):
        raise ProjectFileError(f"{pyproject}: main {main_setting!r} must be a subfolder of the project")
    entry = main / "__main__.py" if main.is_dir() else main
    if not entry.is_file():
        raise ProgramMissing(f"{entry} does not exist: Pulumi.yaml's main must name the program")
    return (main if main.is_dir() else main.parent), entry


def run_program(
    cwd: Path,
    stack: str,
    *,
    config: dict[str, Any] | None = None,
    on_register: Callable[[int], None] | None = None,
    preview: bool = True,
    progress: Callable[[str], None] | None = None,
    isolate: bool = True,
) -> Record:
    """Run the Pulumi program in ``cwd`` for ``stack`` under mocks; return its record.

    ``preview`` (the default) runs it as `pulumi preview` does (``is_dry_run()`` is True; outputs no mock
    computes are unknown); False emulates `pulumi up`. ``config`` replaces the stack file's config (tests
    use it); otherwise Pulumi.<stack>.yaml is read. With ``isolate`` (the default) a program that needs its
    own virtualenv (environment.py) runs in that interpreter, in a child process; ``progress`` hears what
    creating it does.
    """
    cwd = Path(cwd).resolve()
    project = read_project(cwd)
    stack_config = load_stack_config(cwd, stack) if config is None else StackConfig(values=dict(config))
    workdir, entry = program_entry(cwd, project)
    if isolate:
        from newinfra.offline import environment, runner

        env = environment.resolve(cwd, project, workdir, progress)
        if env.python is not None:
            if progress:
                progress(f"planning {stack} in {env.reason}")
            return runner.run_isolated(env.python, cwd, stack, config=config, preview=preview)

    def body() -> None:
        try:
            runpy.run_path(str(entry), run_name="__main__")
        except ProgramError:
            raise
        except Exception as e:
            raise ProgramError(f"{entry}: {type(e).__name__}: {_one_line(e)}") from e

    with _program_context(workdir, entry.parent):
        try:
            return _run(project["name"], stack, stack_config, body, on_register, preview)
        except OfflineError:
            raise
        except Exception as e:  # the program's error, surfaced by the SDK (an apply, a RunError)
            raise ProgramError(f"{entry}: {type(e).__name__}: {_one_line(e)}") from e


def run_callable(
    body: Callable[[], Any],
    *,
    project: str = "test",
    stack: str = "test",
    config: dict[str, Any] | None = None,
    preview: bool = False,
) -> Record:
    """Run ``body`` (which creates resources and may call pulumi.export) as a program; return its record.

    For component tests: the same monitor, mocks and record as ``run_program``.
    """
    return _run(project, stack, StackConfig(values=dict(config or {})), body, None, preview)


class ProgramError(OfflineError):
    """The program itself raised (exit 4): the message names its file and the error."""


def _run(project: str, stack: str, config: StackConfig, body: Callable[[], Any],
         on_register: Callable[[int], None] | None, preview: bool) -> Record:
    mocks = ResourceMocks({}, defaults=provider_defaults(config.values))
    monitor = RecordingMonitor(mocks, on_register=on_register)
    settings.configure(sdk_mocks.MockSettings(
        monitor=monitor,
        # GetDeploymentInfo is newer than the SDKs some programs pin (pulumi 3.86 lacks it).
        monitor_features=(set(monitor.GetDeploymentInfo(None).supportedFeatures)
                          if hasattr(monitor, "GetDeploymentInfo") else set()),
        engine=sdk_mocks.MockEngine(logging.getLogger("newinfra.offline")),
        project=project, stack=stack, dry_run=preview, organization="organization", callbacks=None,
    ))
    set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.values.items()},
                   secret_keys=list(config.secret_keys))
    for key in config.unknown:
        _warn(f"{key} is a secure value the offline engine cannot decrypt (set PULUMI_CONFIG_PASSPHRASE or "
              "_FILE for the passphrase provider); the program gets an unknown secret")
    with unknown_secrets(config.unknown), invoke_forms.invoke_forms():
        # As the SDK's own entry point runs a program: awaiting run_in_stack directly works with every pulumi 3
        # SDK (before 3.1xx, run_pulumi_func called its function without awaiting the coroutine it returned,
        # so a program pinned to such an SDK silently registered nothing).
        _sync_await(run_in_stack(body))
    if monitor.errors:
        raise OfflineError("; ".join(monitor.errors))
    if mocks.unanswered:
        _warn("no emulator answers these invokes, so their results are unknown (as a preview shows values "
              f"not yet known): {', '.join(sorted(mocks.unanswered))}")
    resources = sorted(monitor.registrations.values(), key=lambda r: r["urn"])
    return Record(project=project, stack=stack, resources=resources,
                  outputs=_mask(monitor.stack_outputs, config), config=config.recorded())


def _warn(message: str) -> None:
    """One line on stderr: the run goes on, the reviewer sees what the record could not know."""
    print(f"warning: {message}", file=sys.stderr)


def _mask(value: Any, config: StackConfig) -> Any:
    """Decrypted secret values never reach an output, even where the program exported one unwrapped."""
    plaintexts = {v for k, v in config.values.items() if k in config.secret_keys and isinstance(v, str) and v
                  and v != SECRET}
    if not plaintexts:
        return value

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str) and any(p in v for p in plaintexts):
            return SECRET
        return v

    return walk(value)


_SECRET_GETTERS = ("get_secret", "require_secret", "get_secret_bool", "require_secret_bool", "get_secret_int",
                   "require_secret_int", "get_secret_float", "require_secret_float", "get_secret_object",
                   "require_secret_object")


@contextlib.contextmanager
def unknown_secrets(keys: list[str]) -> Iterator[None]:
    """For keys that could not be decrypted, pulumi.Config's secret getters give an unknown secret Output
    (what the program would see for a value it cannot know), instead of the placeholder text."""
    if not keys:
        yield
        return
    wanted = set(keys)
    originals = {name: getattr(pulumi.Config, name) for name in _SECRET_GETTERS}

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def getter(self: pulumi.Config, key: str, *args: Any, **kwargs: Any) -> Any:
            if self.full_key(key) in wanted:
                return unknown_output(secret=True)
            return original(self, key, *args, **kwargs)
        return getter

    for name, original in originals.items():
        setattr(pulumi.Config, name, wrap(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(pulumi.Config, name, original)


def unknown_output(secret: bool = False) -> pulumi.Output:
    """An Output whose value is not known (preview's ``output<T>``)."""
    import asyncio

    def done(value: Any) -> asyncio.Future:
        fut = asyncio.get_event_loop().create_future()
        fut.set_result(value)
        return fut

    return pulumi.Output(set(), done(None), done(False), done(secret))


