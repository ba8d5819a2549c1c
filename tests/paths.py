"""Paths of this repository for tests (the package itself never computes paths from its location)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
