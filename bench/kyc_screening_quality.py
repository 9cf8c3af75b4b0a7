"""Screening quality on the development and held-out sets, Assay against nomenklatura's logic-v2 when installed.

Every labelled pair is screened among the same synthetic distractors (default 20,000). Per set and matcher: recall,
precision (hard non-matches that score above the threshold are false positives) and false alarms per 1,000
distractors (distractor hits over the whole run, divided by distractors / 1,000). logic-v2 (yente's default
algorithm) is shown at its default threshold 0.70 and at the threshold where its recall first reaches Assay's.

logic-v2 is generous here: it always scores the labelled list entry (perfect retrieval, where Assay must find it
through its own blocking) plus the 100 distractors a rapidfuzz prefilter finds closest to the subject.
nomenklatura is a bench-only extra (`pip install -e '.[bench]'`; its pyicu dependency compiles against ICU).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from anyascii import anyascii
from rapidfuzz import fuzz, process

from services.kyc.screening.evaluate import (
    DEV_PATHS,
    HELDOUT_PATHS,
    distractor_index,
    load_sets,
    score_rows,
)
from services.kyc.screening.matcher import DEFAULT_THRESHOLD
from services.kyc.screening.model import ListEntry
from services.kyc.screening.synthetic import synthetic_entries

FLOOR = 0.40  # scores are collected from here so any threshold above can be evaluated afterwards
LOGIC_V2_THRESHOLD = 0.70
PREFILTER = 100


@dataclass(frozen=True)
class Scored:
    """Scores of one labelled pair: its list entry's (None when not found) and the distractors'."""

    positive: bool
    target: float | None
    distractors: tuple[float, ...]


@dataclass(frozen=True)
class Figures:
    threshold: float
    recall: float
    precision: float
    distractor_hits: int
    fa_per_1000: float


def figures(scored: Sequence[Scored], threshold: float, distractors: int) -> Figures:
    pos = [s for s in scored if s.positive]
    tp = sum(1 for s in pos if s.target is not None and s.target >= threshold)
    fp = sum(1 for s in scored if not s.positive and s.target is not None and s.target >= threshold)
    hits = sum(1 for s in scored for d in s.distractors if d >= threshold)
    return Figures(threshold, tp / max(len(pos), 1), tp / max(tp + fp, 1), hits, hits / (distractors / 1000))


def at_recall(scored: Sequence[Scored], recall: float, distractors: int) -> Figures:
    """The highest threshold whose recall reaches the given one (or the best recall there is)."""
    candidates = sorted({s.target for s in scored if s.positive and s.target is not None}, reverse=True)
    best = figures(scored, 1.0, distractors)
    for t in candidates:
        best = figures(scored, t, distractors)
        if best.recall >= recall - 1e-9:
            return best
    return best


def assay_scores(rows: list[dict[str, str]], distractors: int) -> tuple[list[Scored], list[float]]:
    index = distractor_index(distractors)
    out, latencies = [], []
    for row in rows:
        started = time.perf_counter()
        result = next(score_rows([row], index, floor=FLOOR))
        latencies.append((time.perf_counter() - started) * 1000)
        out.append(Scored(row["is_match"] == "1", result.target, result.distractors))
    return out, latencies


def logic_v2_scorer() -> Callable[[list[dict[str, str]], int], list[Scored]] | None:
    try:
        from followthemoney import model
        from nomenklatura.matching import LogicV2
    except ImportError:
        return None
    config = LogicV2.default_config()
    schemas = {"person": "Person", "organization": "Company"}

    def make(uid: str, kind: str, name: str, born: Sequence[str], countries: Sequence[str]) -> Any:
        entity = model.make_entity(schemas.get(kind, "LegalEntity"))
        entity.id = uid
        entity.add("name", name)
        if kind == "person":
            entity.add("birthDate", list(born))
        entity.add("country", [c.lower() for c in countries])
        return entity

    def score(rows: list[dict[str, str]], distractors: int) -> list[Scored]:
        entries: list[ListEntry] = list(synthetic_entries(distractors, seed=424242))
        names = [(e, n) for e in entries for n in e.names]
        keys = [anyascii(n).casefold() for _, n in names]
        listed = [make(f"d{i}", e.kind, n, e.birth_dates, e.countries) for i, (e, n) in enumerate(names)]
        out = []
        for number, row in enumerate(rows):
            born = [row["subject_birth_date"]] if row["subject_birth_date"] else []
            query = make(f"q{number}", row["subject_kind"], row["subject_name"], born, [row["subject_country"]])
            target_born = [row["list_birth_date"]] if row["list_birth_date"] else []
            target = make(f"t{number}", row["list_kind"], row["list_name"], target_born, [row["list_country"]])
            close = process.extract(
                anyascii(row["subject_name"]).casefold(), keys, scorer=fuzz.token_set_ratio, limit=PREFILTER
            )
            hits = tuple(LogicV2.compare(query, listed[i], config).score for _, _, i in close)
            found = LogicV2.compare(query, target, config).score
            out.append(Scored(row["is_match"] == "1", found, tuple(h for h in hits if h >= FLOOR)))
        return out

    return score


def _line(name: str, f: Figures) -> str:
    return (
        f"  {name:<34} threshold {f.threshold:.2f}: recall {f.recall:.3f}, precision {f.precision:.3f}, "
        f"distractor hits {f.distractor_hits:>4} = {f.fa_per_1000:.2f} per 1,000 distractors"
    )


def report(label: str, rows: list[dict[str, str]], distractors: int, logic_v2: bool) -> None:
    pos = sum(r["is_match"] == "1" for r in rows)
    print(
        f"{label}: {len(rows)} pairs ({pos} matches, {len(rows) - pos} hard non-matches), {distractors:,} distractors"
    )
    assay, latencies = assay_scores(rows, distractors)
    mine = figures(assay, DEFAULT_THRESHOLD, distractors)
    print(_line("Assay (default threshold)", mine))
    ceiling = max(figures(assay, t / 100, distractors).recall for t in range(int(FLOOR * 100), 100))
    print(f"  Assay best recall at any threshold >= {FLOOR}: {ceiling:.3f}")
    print(f"  Assay time per pair (index + screen + remove): p50 {statistics.median(latencies):.1f} ms")
    if not logic_v2:
        print("  logic-v2: skipped (--no-logic-v2)")
        return
    scorer = logic_v2_scorer()
    if scorer is None:
        print("  logic-v2: skipped, nomenklatura is not installed (`pip install -e '.[bench]'`; its pyicu compiles)")
        return
    started = time.perf_counter()
    theirs = scorer(rows, distractors)
    spent = time.perf_counter() - started
    print(_line("logic-v2 (default threshold 0.70)", figures(theirs, LOGIC_V2_THRESHOLD, distractors)))
    print(_line("logic-v2 at Assay's recall", at_recall(theirs, mine.recall, distractors)))
    print(
        _line(
            "Assay at logic-v2's recall (0.70)",
            at_recall(assay, figures(theirs, 0.70, distractors).recall, distractors),
        )
    )
    print(f"  logic-v2 time: {spent:.0f} s for {len(rows)} pairs x {PREFILTER + 1} candidates")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distractors", type=int, default=20_000)
    parser.add_argument("--no-logic-v2", action="store_true", help="Assay only")
    parser.add_argument("--set", choices=("dev", "heldout", "both"), default="both")
    args = parser.parse_args()
    sets = {"dev": DEV_PATHS, "heldout": HELDOUT_PATHS}
    for label in ("dev", "heldout") if args.set == "both" else (args.set,):
        report(label, load_sets(sets[label]), args.distractors, not args.no_logic_v2)


if __name__ == "__main__":
    main()
