"""The data_security policy pack, as `pulumi preview --policy-pack policies/data_security` starts it.

Constructing PolicyPack starts the analyzer server and blocks, so the rules live in newinfra.policies.rules and this
file only assembles them (tests run it with PolicyPack intercepted).
"""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# A checkout without `pip install -e .`: make the repository's packages importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from newinfra.policies.packs import pack_arguments  # noqa: E402

PolicyPack(**pack_arguments("data_security"))
