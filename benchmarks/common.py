"""Shared pieces of the benchmarks: machine facts, the result record, the results file.

Every measure is a ratio against a baseline that a capable user would otherwise use (see
DESIGN.md, "Benchmarks: what each baseline is"). A ratio is always oriented so that higher is
better for tagpulse; ``met`` is ``ratio >= goal``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

__all__ = [
    "Result",
    "best_of",
    "fmt_number",
    "machine_facts",
    "main",
    "merge_results",
    "report",
]

T = TypeVar("T")

_VERSIONED = ("tagpulse", "pyarrow", "duckdb", "orjson", "httpx", "pandas", "numpy")


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    """Where and with what a result was measured."""
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {dist: _version(dist) for dist in _VERSIONED},
    }


@dataclass(slots=True)
class Result:
    """One measure: tagpulse's ``value`` against the ``baseline`` on the same data.

    ``unit`` is the unit of ``value`` and ``baseline``; ``higher_is_better`` says how to read
    them (a rate: True, a time: False). ``ratio`` is oriented so that higher is better.
    """

    name: str
    value: float
    baseline: float
    ratio: float
    goal: float
    unit: str
    higher_is_better: bool
    baseline_name: str = "baseline"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "goal": self.goal,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "baseline_name": self.baseline_name,
            "met": self.met,
            "details": self.details,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Result:
        fields = {k: v for k, v in doc.items() if k != "met"}
        return cls(**fields)

    def line(self) -> str:
        """``parse+normalise: 51,234 payloads/s vs orjson.loads 80,000/s → ratio 0.64 …``"""
        unit = self.unit
        short = unit[unit.index("/") :] if "/" in unit else f" {unit}"
        verdict = "OK" if self.met else "MISSED"
        return (
            f"{self.name}: {fmt_number(self.value)} {unit} vs {self.baseline_name} "
            f"{fmt_number(self.baseline)}{short} → ratio {self.ratio:.2f} "
            f"(goal ≥ {self.goal:g}) {verdict}"
        )


def fmt_number(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4f}"


def report(result: Result) -> Result:
    print(result.line(), flush=True)
    return result


def best_of(
    runs: int, fn: Callable[[], T], *, before: Callable[[], object] | None = None
) -> tuple[float, T]:
    """The shortest wall time of ``runs`` calls of ``fn`` and the last call's return value.

    ``before`` (not timed) runs before each call, then the garbage collector, so one call's
    garbage is not collected on the next one's clock.
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")
    times: list[float] = []
    last: list[T] = []
    for _ in range(runs):
        last.clear()  # drop the previous result before the next run
        if before is not None:
            before()
        gc.collect()
        start = time.perf_counter()
        last.append(fn())
        times.append(time.perf_counter() - start)
    return min(times), last[0]


def merge_results(path: Path, results: list[Result]) -> dict[str, Any]:
    """Write ``results`` into the JSON file at ``path``, replacing measures of the same name.

    Results of other measures already in the file are kept, so one benchmark can be re-run
    alone; the machine facts are those of this run.
    """
    existing: list[dict[str, Any]] = []
    if path.exists():
        try:
            doc = orjson.loads(path.read_bytes())
            existing = [r for r in doc.get("results", []) if isinstance(r, dict)]
        except (orjson.JSONDecodeError, AttributeError):
            existing = []
    fresh = [r.to_json() for r in results]
    names = {r["name"] for r in fresh}
    merged = [r for r in existing if r.get("name") not in names] + fresh
    doc = {"machine": machine_facts(), "results": merged}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    os.replace(tmp, path)
    return doc


def main(run: Callable[[bool], list[Result]]) -> None:
    """Command line of a single benchmark script: ``[--quick] [--out FILE]``."""
    parser = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").strip())
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--out", type=Path, help="merge the results into this JSON file")
    args = parser.parse_args()
    results = run(args.quick)
    if args.out is not None:
        merge_results(args.out, results)
