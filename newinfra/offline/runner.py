"""Run a program in its own interpreter (its virtualenv) with the offline engine injected; get its record.

The parent (newinfra's CLI) starts the program's ``python`` with a small bootstrap that appends newinfra's
site-packages to the END of ``sys.path`` (``site.addsitedir``, so the editable install's finder works):
the program's own packages — its pulumi SDK, providers, grpc and protobuf — are found first and the engine
uses them; only what the program's virtualenv lacks (newinfra itself, and the few libraries the engine
needs) comes from newinfra's environment, never a provider SDK (``pulumi_*``): a program that does not
declare one fails to import it, as it would under Pulumi. The child runs the program in-process there, as ``run_program``
does in newinfra's interpreter, and writes the record as JSON to a file (the program's own stdout stays out
of it). Nothing is installed into either virtualenv.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from newinfra.offline.mocks import OfflineError
from newinfra.record import Record

SITE_VAR = "NEWINFRA_ENGINE_SITE"

# Executed by the program's interpreter with `-c` (a script file's folder would be put first on sys.path,
# and newinfra/offline holds modules named like the standard library's).
BOOTSTRAP = f"""
import json, os, site, sys
from importlib.machinery import PathFinder
before = set(sys.path)
for d in json.loads(os.environ[{SITE_VAR!r}]):
    site.addsitedir(d)
engine = set(sys.path) - before

class ProgramProviders:
    # Provider SDKs (pulumi_aws, pulumi_random, ...) come from the program's environment only, as under
    # Pulumi: one the program does not declare must not be found among newinfra's packages.
    def find_spec(self, name, path=None, target=None):
        if path is not None or not name.startswith("pulumi_"):
            return None
        spec = PathFinder.find_spec(name, [p for p in sys.path if p not in engine])
        if spec is None:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return spec

sys.meta_path.insert(0, ProgramProviders())
try:
    from newinfra.offline.runner import child_main
except Exception as e:
    from importlib import metadata
    own = [p for p in sys.path if p.startswith(sys.prefix)]  # the program's virtualenv, not newinfra's
    found = [d.version for d in metadata.distributions(path=own) if (d.metadata["Name"] or "").lower() == "pulumi"]
    sdk = f"its pulumi SDK is {{found[0]}}" if found else "it has no pulumi SDK"
    with open(sys.argv[2], "w") as f:
        json.dump({{"error": {{"kind": "engine", "message": f"{{type(e).__name__}}: {{' '.join(str(e).split())}} ({{sdk}}; the offline "
                   "engine needs pulumi 3)"}}}}, f)
    sys.exit(3)
sys.exit(child_main(sys.argv[1], sys.argv[2]))
"""


def engine_site_dirs() -> list[str]:
    """newinfra's own site directories (where newinfra and the engine's libraries are installed)."""
    dirs = [d for d in site.getsitepackages() if Path(d).is_dir()]
    user = site.getusersitepackages()
    if site.ENABLE_USER_SITE and Path(user).is_dir():
        dirs.append(user)
    import newinfra

    home = Path(newinfra.__file__).resolve().parent.parent
    if not any(home.is_relative_to(Path(d).resolve()) for d in dirs) and not _editable_here(dirs):
        dirs.append(str(home))  # run from a source tree on PYTHONPATH
    return dirs


def _editable_here(dirs: list[str]) -> bool:
    return any(p.name.startswith("__editable__.newinfra") for d in dirs for p in Path(d).glob("*.pth"))


def run_isolated(python: Path, cwd: Path, stack: str, *, config: dict[str, Any] | None, preview: bool) -> Record:
    """Run the program in ``cwd`` with ``python`` (its virtualenv's) and return the record it made."""
    from newinfra.offline.engine import ProgramError, ProjectFileError

    venv = python.parent.parent
    env = {**os.environ, SITE_VAR: json.dumps(engine_site_dirs()), "VIRTUAL_ENV": str(venv),
           "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONHOME", None)  # as Pulumi's language host activates a virtualenv
    with tempfile.TemporaryDirectory(prefix="newinfra-run-") as tmp:
        request, result = Path(tmp) / "request.json", Path(tmp) / "result.json"
        request.write_text(json.dumps({"cwd": str(cwd), "stack": stack, "config": config, "preview": preview},
                                      default=str))
        proc = subprocess.run([str(python), "-c", BOOTSTRAP, str(request), str(result)], cwd=cwd, env=env,
                              capture_output=True, text=True, check=False)
        # The program's prints and the engine's warnings, on stderr (stdout carries --json).
        sys.stderr.write(proc.stdout + proc.stderr)
        if not result.is_file():
            tail = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            raise OfflineError(f"{python} stopped (exit {proc.returncode}) before the program finished: "
                               f"{tail[-1] if tail else 'no output'}")
        payload = json.loads(result.read_text())
    if "error" in payload:
        kind, message = payload["error"]["kind"], payload["error"]["message"]
        if kind == "project":
            raise ProjectFileError(message)
        if kind == "program":
            raise ProgramError(message)
        if kind == "engine":
            raise OfflineError(f"the program's interpreter {python} cannot run the offline engine: {message}")
        raise OfflineError(message)
    return Record(**payload["record"])


def child_main(request_path: str, result_path: str) -> int:
    """In the program's interpreter: run it in-process and write {"record": ...} or {"error": ...}."""
    from newinfra.offline.engine import ProgramError, ProjectFileError, run_program

    request = json.loads(Path(request_path).read_text())
    try:
        record = run_program(Path(request["cwd"]), request["stack"], config=request["config"],
                             preview=request["preview"], isolate=False)
        payload: dict[str, Any] = {"record": {"project": record.project, "stack": record.stack,
                                              "resources": record.resources, "outputs": record.outputs,
                                              "config": record.config}}
        code = 0
    except ProjectFileError as e:
        payload, code = {"error": {"kind": "project", "message": str(e)}}, 2
    except ProgramError as e:
        payload, code = {"error": {"kind": "program", "message": str(e)}}, 4
    except OfflineError as e:
        payload, code = {"error": {"kind": "offline", "message": str(e)}}, 4
    except Exception as e:  # noqa: BLE001 - the engine under another SDK version: reported, never a traceback
        payload, code = {"error": {"kind": "engine", "message": f"{type(e).__name__}: {' '.join(str(e).split())}"}}, 4
    Path(result_path).write_text(json.dumps(payload))
    return code
