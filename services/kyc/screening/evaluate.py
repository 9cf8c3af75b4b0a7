"""Recall/precision of the screening engine on labelled name pairs.

Two kinds of set live in eval/: name_pairs.csv, written by hand by whoever tuned the matcher, and the UN/OFAC sets
built by bench/screening_sets.py from the aliases those lists record (un_ofac_dev.csv to tune on, un_ofac_heldout.csv
held out; see eval/README.md for the protocol)."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .fields import country_code, parse_date
from .matcher import DEFAULT_THRESHOLD, ScreeningIndex, Subject
from .model import ListEntry
from .synthetic import synthetic_entries

EVAL_DIR = Path(__file__).parent / "eval"
DEFAULT_PATH = EVAL_DIR / "name_pairs.csv"
DEV_PATHS = (DEFAULT_PATH, EVAL_DIR / "un_ofac_dev.csv")
HELDOUT_PATHS = (EVAL_DIR / "un_ofac_heldout.csv",)
CASES = (
    "transliteration_cyrillic",
    "transliteration_arabic",
    "accents",
    "legal_form",
    "word_order",
    "initials",
    "typo",
    "middle_name_missing",
    "identifiers",
    "hard_non_match",
)
LIST_CASES = ("alias_person", "alias_organization", "original_script", "hard_non_match")  # the UN/OFAC sets
DISTRACTORS = 3000  # synthetic list names around each labelled entry, so blocking has to work


@dataclass
class CaseStats:
    """Confusion counts for one case."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    @property
    def rows(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.rows if self.rows else 1.0


@dataclass
class Report:
    """Outcome of one evaluation run."""

    recall: float
    precision: float
    per_case: dict[str, CaseStats]
    false_negatives: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    threshold: float = DEFAULT_THRESHOLD
    distractor_hits: int = 0
    distractors: int = DISTRACTORS

    @property
    def false_alarms_per_1000(self) -> float:
        """Hits on synthetic distractors over the whole run, per 1,000 distractors in the index."""
        return self.distractor_hits / max(self.distractors / 1000, 1e-9)

    def __str__(self) -> str:
        rows = sum(c.rows for c in self.per_case.values())
        head = (
            f"threshold {self.threshold}: recall {self.recall:.3f}, precision {self.precision:.3f}, "
            f"rows {rows}, hits on {self.distractors:,} synthetic distractors {self.distractor_hits} "
            f"({self.false_alarms_per_1000:.2f} per 1,000)"
        )
        lines = [head]
        for case, s in self.per_case.items():
            if not s.rows:
                continue
            lines.append(
                f"  {case:<26} rows {s.rows:>3}  tp {s.tp:>3} fn {s.fn:>2} fp {s.fp:>2} "
                f"tn {s.tn:>3}  accuracy {s.accuracy:.3f}"
            )
        lines += [f"  FN {line}" for line in self.false_negatives]
        lines += [f"  FP {line}" for line in self.false_positives]
        return "\n".join(lines)


def _date(value: str) -> tuple[str, ...]:
    return (parse_date(value),) if value.strip() else ()


def load_rows(path: Path = DEFAULT_PATH) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    unknown = {r["case"] for r in rows} - set(CASES) - set(LIST_CASES)
    if unknown:
        raise ValueError(f"unknown case(s) in {path}: {sorted(unknown)}")
    for number, row in enumerate(rows, 2):
        row["line"] = f"{path.name}:{number}"
    return rows


def load_sets(paths: Iterable[Path | str]) -> list[dict[str, str]]:
    """Rows of several pair files, each row knowing its file and line."""
    return [row for path in paths for row in load_rows(Path(path))]


@dataclass(frozen=True)
class RowScores:
    """One labelled pair screened among distractors: the score of its list entry (None below the floor) and the
    scores of every distractor that reached the floor."""

    row: dict[str, str]
    target: float | None
    distractors: tuple[float, ...]


def distractor_index(distractors: int = DISTRACTORS) -> ScreeningIndex:
    return ScreeningIndex(synthetic_entries(distractors, seed=424242))


def entry_and_subject(row: dict[str, str], entry_id: str) -> tuple[ListEntry, Subject]:
    entry = ListEntry(
        entry_id,
        row["list_kind"],
        (row["list_name"],),
        _date(row["list_birth_date"]),
        tuple(country_code(c) for c in [row["list_country"]] if c),
    )
    subject = Subject(
        row["subject_name"],
        kind=row["subject_kind"],
        birth_date=row["subject_birth_date"] or None,
        countries=tuple(c for c in [row["subject_country"]] if c),
    )
    return entry, subject


def score_rows(rows: Iterable[dict[str, str]], index: ScreeningIndex, *, floor: float) -> Iterator[RowScores]:
    """Screen every row's subject against the index plus that row's list entry, at threshold floor."""
    for number, row in enumerate(rows):
        entry, subject = entry_and_subject(row, f"eval-{number}")
        index.add(entry)
        matches = index.screen(subject, threshold=floor, limit=1000)
        index.remove(entry.entry_id)
        target = next((m.score for m in matches if m.entry_id == entry.entry_id), None)
        yield RowScores(row, target, tuple(m.score for m in matches if m.entry_id != entry.entry_id))


def evaluate(
    path: Path | str | Iterable[Path | str] = DEFAULT_PATH,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    distractors: int = DISTRACTORS,
) -> Report:
    """Screen every row's subject against an index holding its list entry plus distractors."""
    rows = load_sets([path] if isinstance(path, (str, Path)) else path)
    stats = {case: CaseStats() for case in (*CASES, *LIST_CASES)}
    report = Report(0.0, 0.0, stats, threshold=threshold, distractors=distractors)
    for scored in score_rows(rows, distractor_index(distractors), floor=threshold):
        report.distractor_hits += len(scored.distractors)
        _tally(report, stats[scored.row["case"]], scored.row, scored.target)
    tp = sum(s.tp for s in stats.values())
    report.recall = tp / max(tp + sum(s.fn for s in stats.values()), 1)
    report.precision = tp / max(tp + sum(s.fp for s in stats.values()), 1)
    return report


def _tally(report: Report, stats: CaseStats, row: dict[str, str], score: float | None) -> None:
    describe = f"{row['line']} [{row['case']}] {row['subject_name']!r} vs {row['list_name']!r}"
    if row["is_match"] == "1":
        if score is not None:
            stats.tp += 1
        else:
            stats.fn += 1
            report.false_negatives.append(describe)
    elif score is not None:
        stats.fp += 1
        report.false_positives.append(f"{describe} scored {score:.3f}")
    else:
        stats.tn += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", default=[str(p) for p in DEV_PATHS], help="pair files (default: dev)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--distractors", type=int, default=DISTRACTORS)
    args = parser.parse_args()
    print(evaluate(args.paths, threshold=args.threshold, distractors=args.distractors))


if __name__ == "__main__":
    main()
