"""The corpus of real public Pulumi Python programs (listed in CORPUS.md), planned and checked offline as a
team's pull request would be.

The programs are other people's code and are not committed here (the tool that fetched them forbids it);
CORPUS.md names each one's repository, commit and path. Place them as ``$NEWINFRA_CORPUS/<program>/`` (the
files at that path and commit, as published) and the slow tests run them; without ``NEWINFRA_CORPUS`` they
are skipped and say so. What this project adds to a program is committed: its stack file
(``corpus_stacks/<program>/Pulumi.dev.yaml``), and the test fills a template's ``${PROJECT}`` /
``${DESCRIPTION}`` as ``pulumi new`` does.

EXPECTED is the one place the expected results live: CORPUS.md's table is checked against it (fast), and the
slow test runs every program and compares. The slow test builds the programs' own virtualenvs from PyPI on
the first run (cached in $XDG_CACHE_HOME/newinfra/venvs, keyed by the requirements), hence ``slow``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

HERE = Path(__file__).parent
STACKS = HERE / "corpus_stacks"  # this project's additions: one stack file per program
MANIFEST = HERE / "CORPUS.md"
MIN_PLANNED = 14  # issue 10: at least 14 programs plan as they are
TIMEOUT_S = 600  # one command; a first run may build the program's virtualenv


class Expected(NamedTuple):
    plan: int  # exit code of `newinfra plan` (newinfra/exits.py): 0 planned, 2 bad input, 4 the program raised
    check: int  # exit code of `newinfra check`: 0 passed, 1 a mandatory violation, 2 / 4 as plan
    resources: int | None  # resources in the record when planned
    error: str = ""  # a piece of the one-line error when the program does not plan
    # where the program reads its inputs from the environment: those variables, and the resources it then plans
    needs_env: tuple[tuple[str, str], ...] = ()
    resources_with_env: int | None = None


EXPECTED: dict[str, Expected] = {
    "aws-python": Expected(0, 1, 1),
    "gcp-python": Expected(0, 1, 1),
    "helm-kubernetes-python": Expected(0, 0, 2),
    "k8s-sdk-guestbook": Expected(0, 0, 7),
    "k8s-sdk-smoke-test": Expected(0, 1, 2),
    "kaniak-scheduled-ecs": Expected(4, 4, None, "KeyError: 'AWS_REGION'",
                                     (("AWS_ACCOUNT_ID", "123456789012"), ("AWS_REGION", "us-east-1")), 13),
    "kubernetes-aws-python": Expected(2, 2, None, "the requirements cannot be installed"),
    "kubernetes-gcp-python": Expected(0, 1, 5),
    "kubernetes-python": Expected(0, 1, 1),
    "random-python": Expected(0, 0, 1),
    "serverless-aws-python": Expected(0, 0, 3),
    "serverless-gcp-python": Expected(0, 1, 8),
    "static-website-aws-python": Expected(0, 1, 6),
    "static-website-gcp-python": Expected(0, 1, 8),
    "vm-aws-python": Expected(0, 1, 7),
    "vm-gcp-python": Expected(0, 1, 4),
    "webapp-kubernetes-python": Expected(0, 1, 4),
}


def manifest_rows() -> dict[str, tuple[str, str]]:
    """program -> (plan cell, check cell) from CORPUS.md's table of programs."""
    rows: dict[str, tuple[str, str]] = {}
    header: list[str] | None = None
    for line in MANIFEST.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|-: "):
            continue
        if "program" in header and "plan" in header:
            row = dict(zip(header, cells, strict=True))
            rows[row["program"].strip("`")] = (row["plan"], row["check"])
    return rows


def corpus_dir() -> Path:
    where = os.environ.get("NEWINFRA_CORPUS", "")
    if not where:
        pytest.skip("NEWINFRA_CORPUS is not set: the corpus programs are not in this repository (CORPUS.md)")
    path = Path(where)
    missing = sorted(name for name in EXPECTED if not (path / name / "Pulumi.yaml").is_file())
    assert not missing, f"NEWINFRA_CORPUS={where} lacks {missing} (CORPUS.md lists where each comes from)"
    return path


def prepare(name: str, tmp_path: Path) -> Path:
    """A copy of the program as `pulumi new` / this project's stack file leave it; nothing written to the source."""
    program = tmp_path / name
    shutil.copytree(corpus_dir() / name, program)
    shutil.copy(STACKS / name / "Pulumi.dev.yaml", program / "Pulumi.dev.yaml")
    project = program / "Pulumi.yaml"
    text = project.read_text()
    if "${PROJECT}" in text or "${DESCRIPTION}" in text:
        description = yaml.safe_load(text.replace("${PROJECT}", name).replace("${DESCRIPTION}", ""))
        description = (description.get("template") or {}).get("description", "")
        project.write_text(text.replace("${PROJECT}", name).replace("${DESCRIPTION}", description))
    return program


def test_every_corpus_program_is_expected_and_in_the_manifest() -> None:
    programs = sorted(p.name for p in STACKS.iterdir() if p.is_dir())
    assert programs == sorted(EXPECTED), "one stack file per expected program"
    rows = manifest_rows()
    assert sorted(rows) == programs
    for name, exp in EXPECTED.items():
        plan, check = rows[name]
        want_plan = f"{exp.plan} ({exp.resources} resources)" if exp.plan == 0 else str(exp.plan)
        assert (plan, check) == (want_plan, str(exp.check)), f"CORPUS.md row {name} disagrees with EXPECTED"
    planned = sum(e.plan == 0 for e in EXPECTED.values())
    assert planned >= MIN_PLANNED
    assert f"{planned} of {len(EXPECTED)} plan as they are" in MANIFEST.read_text(), "CORPUS.md's tally"


# A pull request's check runs without cloud credentials or a deployer's shell: the runner's own region,
# account, project or passphrase must not decide a result (the stack file does).
SCRUBBED = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCOUNT_ID", "AWS_PROFILE", "GOOGLE_PROJECT", "GOOGLE_REGION",
            "GOOGLE_ZONE", "CLOUDSDK_CORE_PROJECT", "KUBECONFIG", "PULUMI_CONFIG_PASSPHRASE",
            "PULUMI_CONFIG_PASSPHRASE_FILE")


def newinfra(*args: str, cwd: Path, extra_env: tuple[tuple[str, str], ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED} | dict(extra_env)
    return subprocess.run([sys.executable, "-m", "newinfra", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=TIMEOUT_S, check=False)


def error_line(stderr: str) -> str:
    return next((ln for ln in stderr.splitlines() if ln.startswith("error:")), stderr.strip()[-300:])


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_program_plans_and_checks_as_recorded(name: str, tmp_path: Path) -> None:
    exp = EXPECTED[name]
    program = prepare(name, tmp_path)  # a copy: nothing is written to the corpus
    before = sorted(p.name for p in program.iterdir())
    plan = newinfra("plan", "--cwd", str(program), "--stack", "dev", "--json", "--out", str(tmp_path / "out"),
                    cwd=tmp_path)
    assert plan.returncode == exp.plan, f"{name}: plan exit {plan.returncode}: {error_line(plan.stderr)}"
    if exp.plan == 0:
        assert json.loads(plan.stdout)["resources"] == exp.resources
        assert (tmp_path / "out" / "resources.json").is_file()
    else:
        assert exp.error in error_line(plan.stderr)
        assert re.match(r"error: \S", error_line(plan.stderr)), "one line naming what failed"
    check = newinfra("check", "--cwd", str(program), "--stack", "dev", "--json", cwd=tmp_path)
    assert check.returncode == exp.check, f"{name}: check exit {check.returncode}: {error_line(check.stderr)}"
    if exp.check in (0, 1):
        verdict = json.loads(check.stdout)
        assert isinstance(verdict.get("violations"), list)
    assert sorted(p.name for p in program.iterdir()) == before, "plan and check write nothing into the program"
    written = [plan.stdout, plan.stderr, check.stdout, check.stderr,
               *(f.read_text() for f in sorted((tmp_path / "out").rglob("*")) if f.is_file())]
    for ciphertext in re.findall(r"secure:\s*(\S+)", (program / "Pulumi.dev.yaml").read_text()):
        assert not any(ciphertext in text for text in written), f"{name}: a secret's ciphertext was written"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e.needs_env))
def test_a_program_reading_its_environment_plans_once_given_it(name: str, tmp_path: Path) -> None:
    """Its failure above is its own input missing, not the engine: with the variables it reads, it plans."""
    exp = EXPECTED[name]
    program = prepare(name, tmp_path)
    plan = newinfra("plan", "--cwd", str(program), "--stack", "dev", "--json", "--out", str(tmp_path / "out"),
                    cwd=tmp_path, extra_env=exp.needs_env)
    assert plan.returncode == 0, error_line(plan.stderr)
    assert json.loads(plan.stdout)["resources"] == exp.resources_with_env
