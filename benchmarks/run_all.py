"""Run every benchmark, write the results file and print a summary.

    python benchmarks/run_all.py --out bench-results.json [--quick] [--only NAME ...]

Each benchmark runs in a fresh process (one at a time), so one's memory and threads do not
weigh on the next. A missed goal is reported, not failed: the exit status is 0 unless a
benchmark itself broke (for example the chart query's two results differed).
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from common import Result, fmt_number, machine_facts, merge_results

#: Module names, in the order they run.
BENCHMARKS = (
    "bench_parse",
    "bench_lake_write",
    "bench_chart_query",
    "bench_collector",
    "bench_import",
    "bench_api",
    "bench_forecast",
    "bench_vision",
    "bench_ppr",
    "bench_spark",
    "bench_predict",
    "bench_workers",
    "bench_feed",
)


def _run_module(module: str, quick: bool) -> list[dict[str, Any]]:
    """In the child process: run one benchmark and return its results as plain data."""
    results: list[Result] = importlib.import_module(module).run(quick)
    return [r.to_json() for r in results]


def run_benchmark(module: str, quick: bool) -> list[Result]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        docs = pool.submit(_run_module, module, quick).result()
    return [Result.from_json(doc) for doc in docs]


def summary(results: list[Result], failed: dict[str, str]) -> str:
    rows = [("measure", "ours", "baseline", "unit", "ratio", "goal", "")]
    for r in results:
        rows.append(
            (
                r.name,
                fmt_number(r.value),
                fmt_number(r.baseline),
                r.unit,
                f"{r.ratio:.2f}",
                f"≥ {r.goal:g}",
                "OK" if r.met else "MISSED",
            )
        )
    for module, error in failed.items():
        rows.append((module, "-", "-", "-", "-", "-", f"ERROR: {error}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i in (0, 3, 6) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="results file (JSON), merged")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, metavar="NAME", help=f"among {BENCHMARKS}"
    )
    args = parser.parse_args(argv)
    modules = args.only or list(BENCHMARKS)
    facts = machine_facts()
    print(
        f"machine: {facts['cores']} cores, {facts['cpu_model']}, Python {facts['python']}"
        f"{' (quick)' if args.quick else ''}",
        flush=True,
    )
    results: list[Result] = []
    failed: dict[str, str] = {}
    started = time.perf_counter()
    for module in modules:
        print(f"-- {module}", flush=True)
        t0 = time.perf_counter()
        try:
            results += run_benchmark(module, args.quick)
        except Exception as exc:
            traceback.print_exc()
            failed[module] = f"{type(exc).__name__}: {exc}"
        print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
        merge_results(args.out, results)  # keep what is done if a later one breaks
    print()
    print(summary(results, failed))
    print(f"\n{len(results)} measures in {time.perf_counter() - started:.0f} s -> {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
