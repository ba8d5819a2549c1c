"""tests/ansible helpers (ansible_targets, ansible_gpu_cases, fakegpu) import by name under --import-mode=importlib."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
