"""The interpreter a Pulumi Python program runs in, chosen as Pulumi's Python language host chooses it.

Pulumi.yaml's ``runtime.options``:
  ``toolchain``   ``pip`` (the default), ``poetry`` or ``uv``;
  ``virtualenv``  the program's virtualenv, relative to the project directory. With ``uv`` it defaults to
                  uv's ``.venv``; with ``poetry`` it is the one ``poetry env info --path`` names; with ``pip``
                  and no option the language host runs the ``python3`` it finds (no virtualenv).
The program's dependencies: ``requirements.txt`` (pip, and uv / poetry without a pyproject), else
``pyproject.toml``'s ``[project].dependencies`` or poetry's ``[tool.poetry.dependencies]``.

Where the language host would install those dependencies (``pulumi install``), the offline engine never
writes into the program's directory (a pull-request check must not change the checkout) nor into
newinfra's own virtualenv: it builds a virtualenv in newinfra's cache, keyed by the dependencies and the
Python version, and reuses it on every later run. A virtualenv the user made is used as it is. A program
whose dependencies newinfra's own interpreter already satisfies (or that has none) runs in-process, as
before: the same packages would be imported either way, and it keeps the reference stacks fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newinfra.offline.engine import ProjectFileError
from newinfra.offline.mocks import OfflineError

TOOLCHAINS = ("pip", "poetry", "uv")
COMPLETE = ".newinfra-complete"  # written last: a virtualenv without it was interrupted and is rebuilt


@dataclass(frozen=True)
class Requirements:
    """What the program needs installed: the file it came from and the requirement lines."""

    source: Path
    lines: tuple[str, ...]
    workdir: Path  # pip resolves relative paths in a requirements file from here

    def digest(self) -> str:
        """sha256 of the requirements and the interpreter: the cache key of their virtualenv."""
        h = hashlib.sha256()
        h.update(f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}\n".encode())
        h.update(f"{sys.base_prefix}\n".encode())
        for line in self.lines:
            h.update(line.encode() + b"\n")
        return h.hexdigest()


@dataclass(frozen=True)
class Environment:
    """Where the program runs: ``python`` None means newinfra's own interpreter, in-process."""

    python: Path | None
    reason: str


def cache_dir() -> Path:
    """newinfra's cache: $XDG_CACHE_HOME/newinfra (default ~/.cache/newinfra)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newinfra"


def runtime_options(project: dict[str, Any], project_file: Path) -> tuple[str, str | None]:
    """(toolchain, virtualenv option or None) from Pulumi.yaml, checked."""
    runtime = project.get("runtime")
    options = runtime.get("options") if isinstance(runtime, dict) else None
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise ProjectFileError(f"{project_file}: runtime.options must be a mapping (toolchain, virtualenv)")
    toolchain = options.get("toolchain", "pip")
    if toolchain not in TOOLCHAINS:
        raise ProjectFileError(f"{project_file}: runtime.options.toolchain is {toolchain!r}; valid: "
                             f"{', '.join(TOOLCHAINS)}")
    virtualenv = options.get("virtualenv")
    if virtualenv is not None and (not isinstance(virtualenv, str) or not virtualenv.strip()):
        raise ProjectFileError(f"{project_file}: runtime.options.virtualenv is {virtualenv!r}; it must be a "
                             "path (relative to the project directory)")
    return toolchain, virtualenv


class RequirementsError(ProjectFileError):
    """The requirements file cannot be read, or pip cannot install it: bad input (exit 2)."""


def read_requirements(cwd: Path, program_dir: Path, toolchain: str) -> Requirements | None:
    """The program's requirements: requirements.txt (the program's directory first, then the project's),
    else pyproject.toml's dependencies for poetry / uv. None when it declares none."""
    for directory in dict.fromkeys((program_dir, cwd)):
        path = directory / "requirements.txt"
        if path.exists():
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError) as e:
                why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
                raise RequirementsError(f"{path}: cannot be read ({why})") from None
            lines = tuple(ln for ln in (_strip_comment(x) for x in text.splitlines()) if ln)
            return Requirements(path, lines, directory) if lines else None
    if toolchain in ("poetry", "uv"):
        for directory in dict.fromkeys((program_dir, cwd)):
            path = directory / "pyproject.toml"
            if path.exists():
                lines = pyproject_dependencies(path)
                return Requirements(path, lines, directory) if lines else None
    return None


def _strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def pyproject_dependencies(path: Path) -> tuple[str, ...]:
    """PEP 621 ``[project].dependencies``, else poetry's ``[tool.poetry.dependencies]`` as PEP 508 lines."""
    import tomllib

    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise RequirementsError(f"{path}: cannot be read ({' '.join(str(e).split())})") from None
    project_deps = (doc.get("project") or {}).get("dependencies")
    if project_deps:
        return tuple(str(d) for d in project_deps)
    poetry = ((doc.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
    return tuple(poetry_requirement(name, spec, path) for name, spec in poetry.items() if name.lower() != "python")


def poetry_requirement(name: str, spec: Any, path: Path) -> str:
    """One poetry dependency as a PEP 508 requirement (``^1.2`` → ``>=1.2,<2.0``, ``~1.2`` → ``>=1.2,<1.3``)."""
    extras = ""
    if isinstance(spec, dict):
        if "version" not in spec:
            raise RequirementsError(f"{path}: dependency {name!r} is {spec!r}; only version dependencies can be "
                                    "installed offline (not path, git or url ones)")
        extras = f"[{','.join(spec['extras'])}]" if spec.get("extras") else ""
        spec = spec["version"]
    spec = str(spec).strip()
    parts = [_poetry_constraint(p.strip()) for p in spec.split(",") if p.strip()]
    return f"{name}{extras}{','.join(p for p in parts if p)}"


def _poetry_constraint(c: str) -> str:
    if c in ("*", ""):
        return ""
    if c[0] in "^~" and not c.startswith("~="):
        version = c[1:].strip()
        nums = [int(x) for x in re.findall(r"\d+", version)[:3]] or [0]
        if c[0] == "^":  # the left-most non-zero part may not change
            i = next((k for k, n in enumerate(nums) if n != 0), len(nums) - 1)
        else:  # ~1.2.3 / ~1.2: the minor may not change; ~1: the major may not
            i = min(1, len(nums) - 1) if len(nums) > 1 else 0
        upper = nums[: i + 1]
        upper[-1] += 1
        return f">={version},<{'.'.join(map(str, upper))}"
    if c[0].isdigit():
        return f"=={c}"
    return c


def satisfied_here(req: Requirements) -> bool:
    """True when newinfra's own interpreter already has every requirement (name, version, extras' deps
    not checked) — then the program imports the same packages in-process. Any line that is not a plain
    requirement (``-r``, ``-e``, a URL, an index option) needs the program's own virtualenv."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    for line in req.lines:
        try:
            r = Requirement(line)
        except InvalidRequirement:
            return False
        if r.marker is not None and not r.marker.evaluate():
            continue  # not for this platform / Python
        if r.url:
            return False
        try:
            version = metadata.version(r.name)
        except metadata.PackageNotFoundError:
            return False
        if r.specifier and not r.specifier.contains(version, prereleases=True):
            return False
    return True


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def resolve(cwd: Path, project: dict[str, Any], program_dir: Path,
            progress: Callable[[str], None] | None = None) -> Environment:
    """The interpreter the program runs in; creates (once) its cached virtualenv where needed."""
    toolchain, option = runtime_options(project, cwd / "Pulumi.yaml")
    own = _existing_venv(cwd, toolchain, option)
    if own is not None and own.resolve() == Path(sys.prefix).resolve():
        return Environment(None, f"newinfra's interpreter (the program's virtualenv {own} is newinfra's)")
    if own is not None:
        return Environment(venv_python(own), f"the program's virtualenv {own}")
    req = read_requirements(cwd, program_dir, toolchain)
    if req is None or satisfied_here(req):
        return Environment(None, "newinfra's interpreter (it has what the program requires)")
    venv = cached_venv(req, toolchain, progress)
    return Environment(venv_python(venv), f"cached virtualenv {venv} for {req.source}")


def _existing_venv(cwd: Path, toolchain: str, option: str | None) -> Path | None:
    """The program's own virtualenv when it exists (the user made it): used as it is."""
    candidates: list[Path] = []
    if option is not None:
        candidates.append(Path(option) if Path(option).is_absolute() else cwd / option)
    elif toolchain == "uv":
        candidates.append(cwd / ".venv")
    elif toolchain == "poetry" and shutil.which("poetry"):
        found = subprocess.run(["poetry", "env", "info", "--path"], cwd=cwd, capture_output=True, text=True,
                               check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    return next((c for c in candidates if venv_python(c).is_file()), None)


def cached_venv(req: Requirements, toolchain: str, progress: Callable[[str], None] | None = None) -> Path:
    """$XDG_CACHE_HOME/newinfra/venvs/<sha256>: created with the requirements installed, once."""
    venv = cache_dir() / "venvs" / req.digest()
    if (venv / COMPLETE).is_file():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _locked(venv.with_suffix(".lock")):
        if (venv / COMPLETE).is_file():  # another run built it while this one waited
            return venv
        say = progress or (lambda m: print(m, file=sys.stderr))
        shutil.rmtree(venv, ignore_errors=True)
        say(f"creating the program's virtualenv for {req.source} in {venv}")
        made = subprocess.run([_base_python(), "-m", "venv", str(venv)], capture_output=True, text=True,
                              check=False)
        if made.returncode != 0:
            raise OfflineError(f"{venv}: python -m venv failed: {_last_line(made.stderr or made.stdout)}")
        say(f"installing {len(req.lines)} requirement(s) from {req.source} ({toolchain})")
        listed = req.source  # pip's messages then name the program's file; its -r / -e paths resolve
        if req.source.name != "requirements.txt":  # pyproject.toml: its dependencies as a requirements list
            listed = venv / "requirements.txt"
            listed.write_text("".join(f"{ln}\n" for ln in req.lines))
        installed = subprocess.run(_installer(venv, toolchain, listed), cwd=req.workdir, capture_output=True,
                                   text=True, check=False)
        if installed.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RequirementsError(f"{req.source}: the requirements cannot be installed: "
                                    f"{_pip_error(installed.stderr, installed.stdout)}")
        (venv / COMPLETE).write_text(req.source.as_posix() + "\n")
    return venv


def _installer(venv: Path, toolchain: str, listed: Path) -> list[str]:
    uv = shutil.which("uv")
    if toolchain == "uv" and uv:
        return [uv, "pip", "install", "--quiet", "--python", str(venv_python(venv)), "-r", str(listed)]
    return [str(venv_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "-r", str(listed)]


def _base_python() -> str:
    """The interpreter newinfra runs on, outside any virtualenv (so the new one does not nest in ours)."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(base) if base.is_file() else sys.executable


def _pip_error(stderr: str, stdout: str) -> str:
    """pip's own error, one line: its first ``ERROR:`` line, else its last line."""
    for line in (stderr + "\n" + stdout).splitlines():
        if line.startswith("ERROR:"):
            return " ".join(line.split())
    return _last_line(stderr or stdout)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[-1].split()) if lines else "(no output)"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One builder per virtualenv: concurrent plans of one program wait for the first to finish."""
    import fcntl

    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
