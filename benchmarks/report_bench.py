"""`newinfra report` on a 2,000-resource record, as a ratio to `newinfra check` on the same record, same run.

The record is the prod stack planned offline, its components copied under new component parents until it
has 2,000 resources (tests/report/big.py). Both commands run in-process through the CLI over the same record
directory, each ``--repeat`` times (median). Prints both, the ratio and the page's size; writes
build/report_bench.json.

    python benchmarks/report_bench.py [--resources 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _time(args: list[str], repeat: int) -> float:
    from typer.testing import CliRunner

    from newinfra.cli.app import app

    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        res = CliRunner().invoke(app, args)
        runs.append(time.perf_counter() - start)
        if res.exit_code not in (0, 1):  # check exits 1 on a mandatory finding: still a full run
            raise SystemExit(f"newinfra {' '.join(args)}: exit {res.exit_code}: {res.output[-500:]}")
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    a = parser.parse_args()
    warnings.simplefilter("ignore")
    os.chdir(ROOT)
    from newinfra.offline import run_program
    from tests.report.big import big_record

    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        record = big_record(run_program(ROOT, "prod"), a.resources)
        record.write(Path(tmp) / "prod")
        page = Path(tmp) / "report.html"
        check_s = _time(["check", "prod", "--record", f"{tmp}/prod", "--json"], a.repeat)
        report_s = _time(["report", "prod", "--record", f"{tmp}/prod", "--out", str(page)], a.repeat)
        size = page.stat().st_size
    result = {"resources": len(record.resources), "repeat": a.repeat, "checkSeconds": round(check_s, 3),
              "reportSeconds": round(report_s, 3), "ratio": round(report_s / check_s, 2), "reportBytes": size}
    print(f"{len(record.resources)} resources: check {check_s:.2f} s, report {report_s:.2f} s "
          f"(ratio {report_s / check_s:.2f}), page {size:,} bytes")
    out = ROOT / "build/report_bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
