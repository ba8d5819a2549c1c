"""The whole bill of a 10,000-resource record, timed as a ratio to loading that record, in the same run.

The record is policy_bench's: newinfra's dev, staging and prod stacks and another team's program, run
offline once and copied (with renamed resources) up to the size asked. It is written to a temporary
build folder, then, in turn and ``--repeat`` times each: ``load_record`` (reading resources.json) and
``price_record`` (every resource through its pricing function). The ratio says what pricing adds to a
check that has already loaded the record.

    python benchmarks/cost_bench.py [--resources 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    from newinfra.cost_model.pricebook import load_pricebook
    from newinfra.cost_model.pricebook.bill import price_record
    from policy_bench import scaled

    from newinfra.offline import Record, load_record

    start = time.perf_counter()
    resources, config = scaled(args.resources)
    print(f"record: {len(resources)} resources, {len({r['type'] for r in resources})} types "
          f"(built in {time.perf_counter() - start:.1f} s)")
    load_pricebook()  # the book is read once per process, as by a long-lived check
    with tempfile.TemporaryDirectory(prefix="cost-bench-") as tmp:
        Record("newinfra", "bench", resources, {}, config).write(Path(tmp))
        load_times, price_times = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            record = load_record(Path(tmp))
            t1 = time.perf_counter()
            bill = price_record(record)
            t2 = time.perf_counter()
            load_times.append(t1 - t0)
            price_times.append(t2 - t1)
    load, price = statistics.median(load_times), statistics.median(price_times)
    d = bill.to_dict()["coverage"]
    print(f"  bill: ${bill.monthly_usd:,.2f}/month desired, ${bill.max_monthly_usd:,.2f} max; {d['priced']} priced, "
          f"{d['unpriced']} unpriced, {d['free']} free")
    print(f"load record: median {load:.3f} s; price record: median {price:.3f} s over {args.repeat} runs; "
          f"pricing / loading = {price / load:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
