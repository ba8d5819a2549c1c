#!/usr/bin/env python3
"""Ansible inventory script over the stack outputs: `ansible-playbook -i stack_inventory.py ...`.

Reads $NEWINFRA_OUTPUTS (the JSON of `pulumi stack output --json`), else build/$NEWINFRA_ENV/outputs.json as
written by `newinfra plan`. NEWINFRA_RESOLVE_GROUPS=1 lists the hosts of AWS auto scaling groups (boto3).
"""

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newinfra.cli.inventory import (  # noqa: E402
    InventoryError,
    build_inventory,
    default_resolvers,
    read_outputs,
    to_script_json,
)


def main(argv):
    env = os.environ.get("NEWINFRA_ENV", "dev")
    path = Path(os.environ.get("NEWINFRA_OUTPUTS") or REPO / "build" / env / "outputs.json")
    if not path.exists():
        sys.exit(f"{path} does not exist: run `newinfra plan {env}` or set NEWINFRA_OUTPUTS")
    resolvers = default_resolvers() if os.environ.get("NEWINFRA_RESOLVE_GROUPS") == "1" else None
    try:
        inventory = to_script_json(build_inventory(read_outputs(path), resolvers))
    except InventoryError as error:
        sys.exit(f"{path}: {error}")
    if argv[1:2] == ["--host"]:
        print(json.dumps(inventory["_meta"]["hostvars"].get(argv[2], {}), sort_keys=True))
    else:
        print(json.dumps(inventory, indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
