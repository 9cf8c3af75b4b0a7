"""Recall/precision of the screening engine on the hand-labelled name pairs (eval/name_pairs.csv)."""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, field
from pathlib import Path

from .fields import country_code, parse_date
from .matcher import DEFAULT_THRESHOLD, ScreeningIndex, Subject
from .model import ListEntry
from .synthetic import synthetic_entries

DEFAULT_PATH = Path(__file__).parent / "eval" / "name_pairs.csv"
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

    def __str__(self) -> str:
        rows = sum(c.rows for c in self.per_case.values())
        head = (
            f"threshold {self.threshold}: recall {self.recall:.3f}, precision {self.precision:.3f}, "
            f"rows {rows}, synthetic distractor hits {self.distractor_hits}"
        )
        lines = [head]
        for case, s in self.per_case.items():
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
    unknown = {r["case"] for r in rows} - set(CASES)
    if unknown:
        raise ValueError(f"unknown case(s) in {path}: {sorted(unknown)}")
    return rows


def evaluate(
    path: Path | str = DEFAULT_PATH, *, threshold: float = DEFAULT_THRESHOLD, distractors: int = DISTRACTORS
) -> Report:
    """Screen every row's subject against an index holding its list entry plus distractors."""
    rows = load_rows(Path(path))
    index = ScreeningIndex(synthetic_entries(distractors, seed=424242))
    stats = {case: CaseStats() for case in CASES}
    report = Report(0.0, 0.0, stats, threshold=threshold)
    for number, row in enumerate(rows, 2):
        entry = ListEntry(
            f"eval-{number}",
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
        index.add(entry)
        matches = index.screen(subject, threshold=threshold, limit=50)
        index.remove(entry.entry_id)
        hit = next((m for m in matches if m.entry_id == entry.entry_id), None)
        report.distractor_hits += sum(1 for m in matches if m.entry_id != entry.entry_id)
        _tally(report, stats[row["case"]], row, number, hit.score if hit else None)
    tp = sum(s.tp for s in stats.values())
    report.recall = tp / max(tp + sum(s.fn for s in stats.values()), 1)
    report.precision = tp / max(tp + sum(s.fp for s in stats.values()), 1)
    return report


def _tally(report: Report, stats: CaseStats, row: dict[str, str], number: int, score: float | None) -> None:
    describe = f"line {number} [{row['case']}] {row['subject_name']!r} vs {row['list_name']!r}"
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
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args()
    print(evaluate(args.path, threshold=args.threshold))


if __name__ == "__main__":
    main()
