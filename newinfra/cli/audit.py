"""`newinfra audit ENV`: read the live AWS account, judge it with the policy packs, report drift from the plan.

Exit status: 1 on a mandatory violation or an unmanaged accelerator instance, 0 otherwise, 2 for bad input
(unknown environment, no or damaged record, a bad --region). See newinfra/audit/run.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from newinfra.exits import BAD_INPUT

_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class AuditInputError(ValueError):
    pass


def _regions(record, region: str | None) -> list[str]:
    from newinfra.record import resource_regions

    if region is not None:
        if not _REGION.match(region):
            raise AuditInputError(f"--region: {region!r} is not an AWS region name (like us-east-1)")
        return [region]
    regions = resource_regions(record)
    found = sorted({regions[x["urn"]] for x in record.resources if x["type"].startswith("aws:") and regions[x["urn"]]})
    if not found and record.config.get("aws:region"):
        found = [str(record.config["aws:region"])]
    return found


def run_audit(env: str, record_dir: Path | None, region: str | None, as_json: bool, session=None) -> int:
    from newinfra.audit.aws_reader import read_account
    from newinfra.audit.run import audit
    from newinfra.cli.check import environments
    from newinfra.config import ConfigError, load_env_config
    from newinfra.project import find_project
    from newinfra.record import dumps, load_record

    try:
        if env not in environments():
            raise AuditInputError(f"ENV: {env!r} is not an environment; valid: {environments()}")
        project = find_project()
        directory = record_dir or project.build_dir(env)
        try:
            planned = load_record(directory)
        except FileNotFoundError as e:
            raise AuditInputError(f"--record: {e}") from None
        except (ValueError, OSError) as e:
            raise AuditInputError(f"--record: {directory} is damaged ({type(e).__name__}); run `newinfra plan "
                                  f"{env}` again") from None
        regions = _regions(planned, region)
        if not regions:
            raise AuditInputError(f"{directory}: the plan has no AWS region; give --region")
    except AuditInputError as e:
        typer.echo(f"newinfra audit: {e}", err=True)
        return BAD_INPUT
    others = []
    for other in environments():
        if other != env:
            try:
                others.append(load_env_config(other).tags)
            except ConfigError:
                continue  # a broken stack file is `check`'s to report; its instances count as unmanaged
    live = read_account(regions, planned.stack or env, planned.project, session=session)
    result = audit(planned.resources, live, planned.config, project=planned.project, stack=planned.stack or env,
                   other_stacks_tags=others)
    if as_json:
        typer.echo(dumps({**result.payload(), "regions": regions}), nl=False)
    else:
        _print(result, regions)
    return result.exit_code


def _print(result: Any, regions: list[str]) -> None:
    ev = result.evaluation
    typer.echo(f"audited {result.live_count} live AWS resources in {', '.join(regions)}")
    for v in ev.violations:
        typer.echo(f"{v.level:9} {v.policy}: {v.resource}: {v.message}")
    for d in result.drift:
        typer.echo(f"{d.kind:9} {d.type}: {d.name}: {d.detail}")
    for line in result.not_covered:
        typer.echo(line)
    typer.echo(f"{len(ev.mandatory)} mandatory, {len(ev.violations) - len(ev.mandatory)} other findings; "
               f"{len(result.drift)} drift ({len(result.unmanaged)} unmanaged accelerator instances)")


Opt = typer.Option


def register(app: Any) -> None:
    @app.command("audit")
    def audit_cmd(
        env: Annotated[str, typer.Argument(help="newinfra environment (a stacks/Pulumi.ENV.yaml)")],
        record: Annotated[Path | None, Opt("--record", help="the planned record (default build/ENV)")] = None,
        region: Annotated[str | None, Opt("--region", help="read this AWS region (default: the plan's)")] = None,
        as_json: Annotated[bool, Opt("--json", help="print {\"violations\", \"drift\", ...} as JSON")] = False,
    ) -> None:
        """Judge the live AWS account with the policy packs and report drift from the last plan."""
        raise typer.Exit(run_audit(env, record, region, as_json))
