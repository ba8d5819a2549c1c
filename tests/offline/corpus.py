"""Re-run the corpus trial: plan and check each Pulumi Python program in the directories given.

    .venv/bin/python tests/offline/corpus.py /tmp/corpus/*  [--stack dev] [--json results.json]

Each argument is a program directory (with Pulumi.yaml and Pulumi.<stack>.yaml). For each, it runs
`newinfra plan --cwd DIR --stack STACK --json` and `newinfra check --cwd DIR --stack STACK --json` with this
interpreter, and prints one row: the exit codes (see newinfra/exits.py), the resource count and the
one-line error. The programs themselves are not part of this repository (tests/offline/CORPUS.md lists where
they come from); a CI job with them under shared/ passes that directory. Exit 1 when any program fails to
plan, so the job shows it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 900  # a first run may build the program's virtualenv (pip downloads its providers)


def run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    try:
        proc = subprocess.run([sys.executable, "-m", "newinfra", *args], capture_output=True, text=True,
                              timeout=TIMEOUT_S, cwd=cwd, check=False)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {TIMEOUT_S} s"
    return proc.returncode, proc.stdout, proc.stderr


def error_line(stderr: str) -> str:
    """The command's one-line error (``error: ...`` / ``newinfra check: ...``), else its last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith(("error:", "newinfra check:")):
            return ln
    return lines[-1] if lines else ""


def trial(program: Path, stack: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="corpus-") as out:
        plan_rc, plan_out, plan_err = run(["plan", "--cwd", str(program), "--stack", stack, "--json",
                                           "--out", out], Path(out))
        resources = None
        if plan_rc == 0:
            resources = json.loads(plan_out)["resources"]
        check_rc, check_out, check_err = run(["check", "--cwd", str(program), "--stack", stack, "--json"],
                                             Path(out))
    findings = None
    if check_rc in (0, 1):
        findings = len(json.loads(check_out).get("violations", []))
    return {"program": program.name, "plan": plan_rc, "resources": resources, "check": check_rc,
            "findings": findings,
            "error": error_line(plan_err) if plan_rc else (error_line(check_err) if check_rc not in (0, 1) else ""),
            "warnings": sorted({ln.strip() for ln in plan_err.splitlines() if ln.startswith("warning:")})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="+", type=Path)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    for program in sorted(args.programs):
        row = trial(program.resolve(), args.stack)
        rows.append(row)
        print(f"{row['program']:32} plan {row['plan']} ({row['resources'] if row['resources'] is not None else '-'}"
              f" resources)  check {row['check']} ({row['findings'] if row['findings'] is not None else '-'} "
              f"findings)  {row['error']}", flush=True)
    planned = sum(r["plan"] == 0 for r in rows)
    checked = sum(r["check"] in (0, 1) for r in rows)
    print(f"{planned} of {len(rows)} planned; {checked} of {len(rows)} checked (a verdict, 0 or 1)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    return 0 if planned == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
