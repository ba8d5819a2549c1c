"""Which resource types take cost tags or labels, and under which input: generated from the provider SDKs.

``python -m newinfra.policies.rules.budget.taggable`` rescans the installed pulumi-aws / pulumi-gcp /
pulumi-alicloud sources (no import, a text scan of each resource class) and rewrites taggable.json; a test
re-derives a sample from the installed SDKs so the table cannot drift from the pinned versions.
"""

from __future__ import annotations

import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("taggable.json")
# SDK package -> input names (snake_case in the SDK, camelCase on the wire) in order of preference.
SCANNED = {
    "pulumi_aws": (("tags", "tags"),),
    "pulumi_alicloud": (("tags", "tags"),),
    "pulumi_gcp": (("labels", "labels"), ("resource_labels", "resourceLabels")),
}
# Inputs a text scan cannot see: GKE node pools label their VMs through nodeConfig.
EXTRA = {"gcp:container/nodePool:NodePool": "nodeConfig.resourceLabels"}
_TOKEN = re.compile(r"super\(\w+, __self__\).__init__\(\s*'([^']+)'")


def scan() -> dict[str, str]:
    """Type token -> the input path holding its tags/labels, for every taggable resource type."""
    table: dict[str, str] = {}
    for package, keys in SCANNED.items():
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{package} is not installed: cannot scan it for taggable types")
        for path in sorted(Path(spec.origin).parent.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            tokens = _TOKEN.findall(text)
            if len(tokens) != 1:
                continue
            for snake, camel in keys:
                if re.search(rf'__props__\.__dict__\["{snake}"\] = {snake}\b', text):
                    table[tokens[0]] = camel
                    break
    table.update(EXTRA)
    return dict(sorted(table.items()))


@lru_cache(maxsize=1)
def taggable() -> dict[str, str]:
    return json.loads(TABLE.read_text())


def main() -> None:
    table = scan()
    TABLE.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
    print(f"{TABLE}: {len(table)} taggable resource types")


if __name__ == "__main__":
    main()
