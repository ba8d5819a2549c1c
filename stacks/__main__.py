"""Entry point the Pulumi language host runs (Pulumi.yaml: main: stacks/).

The language host puts only this folder on sys.path; the program is the package ``stacks`` of the
project root (so tests import it the same way), hence the root goes first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks.program import main  # noqa: E402

main()
