"""`python -m newinfra.cost_model solve REQUEST.yaml [--json] [--catalog DIR]`: exit 0 solved, 2 bad input, 3 infeasible."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from newinfra.cost_model.cli import solve_request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newinfra.cost_model")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("solve", help="place the workloads of a request file (same keys as the stack config)")
    s.add_argument("request", type=Path)
    s.add_argument("--json", action="store_true", help="print the placements as JSON")
    s.add_argument("--catalog", type=Path, default=None, help="catalog folder (default: the packaged one)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    return solve_request(args.request, args.json, args.catalog)


if __name__ == "__main__":
    sys.exit(main())
