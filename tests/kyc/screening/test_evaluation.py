"""The labelled evaluation sets must stay above the recall and precision targets."""

from __future__ import annotations

import csv

import pytest

from services.kyc.screening.evaluate import CASES, DEV_PATHS, HELDOUT_PATHS, LIST_CASES, evaluate, load_rows
from services.kyc.screening.matcher import DEFAULT_THRESHOLD

# Held-out figures at the default threshold when the split was made (docs/benchmarks.md); a change that loses
# more than this margin is a regression even while the issue-9 target below is not reached.
HELDOUT_RECALL_FLOOR = 0.78
MARGIN_NOTE = "held-out recall 0.812, precision 1.000 at 0.85 (issue 9 asks 0.98 / 0.95)"


def test_labelled_set_is_large_and_covers_every_case() -> None:
    rows = load_rows()
    assert len(rows) >= 250
    assert {r["case"] for r in rows} == set(CASES)


def test_recall_and_precision_at_default_threshold() -> None:
    report = evaluate(threshold=DEFAULT_THRESHOLD)
    print(report)
    assert report.recall >= 0.98, report
    assert report.precision >= 0.95, report


def _entities(paths: tuple[object, ...]) -> set[str]:
    keys: set[str] = set()
    for path in paths:
        with open(str(path), encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                keys.update(k.strip() for k in row.get("entities", "").split(" vs ") if k.strip())
    return keys


def test_list_sets_are_split_by_entity_and_large() -> None:
    dev, heldout = _entities(DEV_PATHS), _entities(HELDOUT_PATHS)
    assert dev and heldout and not dev & heldout
    rows = [r for p in HELDOUT_PATHS for r in load_rows(p)]
    matches = sum(r["is_match"] == "1" for r in rows)
    assert matches >= 300 and len(rows) - matches >= 300
    assert {r["case"] for r in rows} == set(LIST_CASES)
    assert {r["subject_kind"] for r in rows} == {"person", "organization"}


def test_heldout_set_does_not_regress() -> None:
    report = evaluate(HELDOUT_PATHS, threshold=DEFAULT_THRESHOLD)
    print(report)
    assert report.recall >= HELDOUT_RECALL_FLOOR, report
    assert report.precision >= 0.95, report


@pytest.mark.xfail(reason=f"issue 9 target not reached yet: {MARGIN_NOTE}", strict=False)
def test_heldout_set_meets_the_issue_target() -> None:
    report = evaluate(HELDOUT_PATHS, threshold=DEFAULT_THRESHOLD)
    assert report.recall >= 0.98, report
    assert report.precision >= 0.95, report
