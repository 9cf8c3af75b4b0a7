"""Benchmark of the KYC screening engine on a synthetic list (default one million names)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from services.kyc.screening.lists import parse_ftm_jsonl
from services.kyc.screening.matcher import DEFAULT_THRESHOLD, ScreeningIndex, Subject
from services.kyc.screening.model import ListEntry
from services.kyc.screening.synthetic import NameGenerator, perturb, synthetic_entries

_SCHEMAS = {"person": "Person", "organization": "Company"}


def _rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def write_ftm(path: Path, names: int, seed: int) -> int:
    """The synthetic list as FollowTheMoney JSON lines; returns the number of entities."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for entry in synthetic_entries(names, seed):
            props = {
                "name": [entry.names[0]],
                "alias": list(entry.names[1:]),
                "birthDate": list(entry.birth_dates),
                "country": list(entry.countries),
                "topics": ["sanction"],
            }
            record = {"id": entry.entry_id, "schema": _SCHEMAS[entry.kind], "properties": props}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def subjects(entries: list[ListEntry], count: int, seed: int) -> list[tuple[Subject, str | None, str]]:
    """Half perturbed listed names (expected entry id known), half fresh random names."""
    rng = random.Random(seed)
    fresh = NameGenerator(seed + 1000)
    out = []
    for entry in rng.sample(entries, count // 2):
        name, how = perturb(entry.names[0], rng, entry.kind)
        out.append((Subject(name, kind=entry.kind), entry.entry_id, how))
    for _ in range(count - count // 2):
        region = rng.choice(fresh.regions)
        if rng.random() < 0.7:
            out.append((Subject(fresh.person(region), kind="person"), None, "random"))
        else:
            out.append((Subject(fresh.organization(region), kind="organization"), None, "random"))
    rng.shuffle(out)
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(names: int, queries: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.jsonl"
        started = time.perf_counter()
        entities = write_ftm(path, names, seed)
        print(
            f"generated {entities:,} entities / {names:,} names "
            f"({path.stat().st_size / 2**20:.0f} MiB FtM JSONL) in {time.perf_counter() - started:.1f} s"
        )
        gc.collect()
        base = _rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        entries = parse_ftm_jsonl(path.read_bytes())
        parse_s, parse_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        parsed = _rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    index = ScreeningIndex(entries)
    build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    gc.collect()
    built = _rss_mb()
    print(f"import (parse_ftm_jsonl): {parse_s:.1f} s wall, {parse_cpu:.1f} s CPU  ({len(entries):,} entries)")
    print(f"index build:              {build_s:.1f} s wall, {build_cpu:.1f} s CPU  ({index.stats()})")
    print(
        f"RSS: +{parsed - base:.0f} MiB for parsed entries, +{built - parsed:.0f} MiB for the index, "
        f"+{built - base:.0f} MiB total (process {built:.0f} MiB)"
    )
    _screen(index, subjects(entries, queries, seed))


def _screen(index: ScreeningIndex, cases: list[tuple[Subject, str | None, str]]) -> None:
    for subject, _, _ in cases[:5]:  # warm caches the way a running service has them
        index.screen(subject)
    latencies, cpu, found, random_hits, exact_twins = [], [], 0, 0, 0
    missed: list[str] = []
    for subject, expected, how in cases:
        started, cpu_started = time.perf_counter(), time.process_time()
        matches = index.screen(subject, threshold=DEFAULT_THRESHOLD)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if expected is None:
            random_hits += bool(matches)
            exact_twins += bool(matches) and matches[0].score >= 0.99
        elif any(m.entry_id == expected for m in matches):
            found += 1
        else:
            missed.append(f"{how}: {subject.name!r} (expected {expected})")
    perturbed = sum(1 for _, e, _ in cases if e is not None)
    print(
        f"screened {len(cases)} subjects at threshold {DEFAULT_THRESHOLD}: "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {_pct(latencies, 0.95):.1f} ms, "
        f"p99 {_pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms (wall clock)"
    )
    # CPU time is what the engine costs; wall clock also counts whatever else shares the machine.
    print(
        f"  CPU time per subject: p50 {statistics.median(cpu):.1f} ms, p95 {_pct(cpu, 0.95):.1f} ms, "
        f"p99 {_pct(cpu, 0.99):.1f} ms; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"recall on perturbed listed names: {found}/{perturbed} = {found / max(perturbed, 1):.3f}")
    # The syllable generator reuses given names and short surnames, so at a million names many
    # "random" people exist on the list under the same name: those hits are correct.
    print(
        f"random subjects with any hit: {random_hits}/{len(cases) - perturbed} "
        f"({exact_twins} of them hit a list name identical after normalisation)"
    )
    for line in missed[:10]:
        print("  missed", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=1_000_000, help="list size in names")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    run(args.names, args.queries, args.seed)


if __name__ == "__main__":
    main()
