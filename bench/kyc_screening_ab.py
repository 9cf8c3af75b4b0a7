"""Two versions of the screening engine on one synthetic list in one process, subject by subject in turn.

On a shared machine two runs of `bench.kyc_screening` one after the other see different load; here both engines
see the same. Each version is a copy of the `services/kyc/screening` folder (its modules import one another
relatively), e.g. from `git archive <commit> services/kyc/screening | tar -x -C /tmp/base`:

    python -m bench.kyc_screening_ab /tmp/base/services/kyc/screening services/kyc/screening --names 1000000

Prints CPU time per subject (mean, p50, p95, p99) and the recall on perturbed listed names of each. With
--check, every subject is then screened again by both at a low threshold and their matches (entry, score, matched
name, explanation) are compared: a speed change must not change any result.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.kyc_screening import _pct, subjects
from services.kyc.screening.synthetic import synthetic_entries


def load_engine(folder: str, alias: str) -> ModuleType:
    """The matcher module of the screening package in folder, imported under a package name of its own."""
    init = Path(folder) / "__init__.py"
    spec = importlib.util.spec_from_file_location(alias, init, submodule_search_locations=[str(Path(folder))])
    if spec is None or spec.loader is None:
        raise SystemExit(f"no screening package in {folder}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[alias] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{alias}.matcher")


def _outcome(matches: list[Any]) -> list[tuple[Any, ...]]:
    return [(m.entry_id, m.score, m.matched_name, m.subject_name, tuple(m.explanation)) for m in matches]


def check(engines: list[ModuleType], indexes: list[Any], cases: list[Any], threshold: float) -> None:
    """Both engines' matches for every subject, at a threshold low enough to see near misses too."""
    differ = 0
    for subject, _, _ in cases:
        outcomes = [
            _outcome(index.screen(engine.Subject(subject.name, kind=subject.kind), threshold=threshold, limit=100))
            for engine, index in zip(engines, indexes, strict=True)
        ]
        if outcomes[0] != outcomes[1]:
            differ += 1
            if differ <= 5:
                print(f"  differ: {subject.name!r}: {outcomes[0][:3]} / {outcomes[1][:3]}")
    print(f"check at threshold {threshold}: {differ} of {len(cases)} subjects with different matches")


def run(folders: list[str], names: int, queries: int, seed: int, check_at: float | None = None) -> None:
    engines = [load_engine(folder, f"_engine{n}") for n, folder in enumerate(folders)]
    entries = list(synthetic_entries(names, seed))
    indexes: list[Any] = []
    for folder, engine in zip(folders, engines, strict=True):
        started = time.process_time()
        indexes.append(engine.ScreeningIndex(entries))
        print(f"{folder}: index build {time.process_time() - started:.1f} s CPU")
    gc.collect()
    cases = subjects(entries, queries, seed)
    cpu: list[list[float]] = [[] for _ in engines]
    found = [0 for _ in engines]
    for subject, _, _ in cases[:5]:  # warm the caches
        for engine, index in zip(engines, indexes, strict=True):
            index.screen(engine.Subject(subject.name, kind=subject.kind))
    for number, (subject, expected, _) in enumerate(cases):
        order = list(range(len(engines)))
        if number % 2:
            order.reverse()  # neither engine always runs first
        for k in order:
            query = engines[k].Subject(subject.name, kind=subject.kind)
            started = time.process_time()
            matches = indexes[k].screen(query)
            cpu[k].append((time.process_time() - started) * 1000)
            found[k] += expected is not None and any(m.entry_id == expected for m in matches)
    perturbed = sum(1 for _, e, _ in cases if e is not None)
    for folder, times, hits in zip(folders, cpu, found, strict=True):
        print(
            f"{folder}: CPU per subject mean {statistics.mean(times):.1f} ms, p50 {statistics.median(times):.1f} ms, "
            f"p95 {_pct(times, 0.95):.1f} ms, p99 {_pct(times, 0.99):.1f} ms; perturbed names found {hits}/{perturbed}"
        )
    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if check_at is not None:
        check(engines, indexes, cases, check_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs=2, help="two copies of services/kyc/screening")
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--check", type=float, metavar="THRESHOLD", help="compare both engines' matches at THRESHOLD")
    args = parser.parse_args()
    run(args.folders, args.names, args.queries, args.seed, args.check)


if __name__ == "__main__":
    main()
