"""The labelled evaluation set must stay above the recall and precision targets."""

from __future__ import annotations

from services.kyc.screening.evaluate import CASES, evaluate, load_rows
from services.kyc.screening.matcher import DEFAULT_THRESHOLD


def test_labelled_set_is_large_and_covers_every_case() -> None:
    rows = load_rows()
    assert len(rows) >= 250
    assert {r["case"] for r in rows} == set(CASES)


def test_recall_and_precision_at_default_threshold() -> None:
    report = evaluate(threshold=DEFAULT_THRESHOLD)
    print(report)
    assert report.recall >= 0.98, report
    assert report.precision >= 0.95, report
