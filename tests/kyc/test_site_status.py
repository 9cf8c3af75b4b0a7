"""ICGLR-style site status rules, computed from dates: no fixtures, no I/O."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from libs.common.errors import Invalid
from services.kyc.domain import sites
from services.kyc.domain.sites import Inspection, MineSite, SiteStatus, StatusReason

BLUE, GREEN, YELLOW, RED = SiteStatus.BLUE, SiteStatus.GREEN, SiteStatus.YELLOW, SiteStatus.RED


def site(registered_on: date = date(2020, 3, 1), **fields) -> MineSite:  # type: ignore[no-untyped-def]
    return MineSite(
        id=uuid4(),
        org_id="org-a",
        name="Kamituga",
        location={"type": "Point", "coordinates": [28, -3]},
        country="CD",
        region="CD-SK",
        registered_on=registered_on,
        **fields,
    )


def inspected(a_site: MineSite, on: date, result: SiteStatus, today: date) -> list[sites.StatusChange]:
    return sites.record_inspection(a_site, Inspection(uuid4(), on, result), today)


def test_a_new_site_is_blue_from_its_registration_day():
    new = site(date(2024, 5, 10))

    assert sites.effective_status(new, date(2024, 5, 10)) == (BLUE, date(2024, 5, 10))


def test_green_lapses_to_blue_a_year_after_the_inspection_then_red_three_years_later():
    a_site = site(date(2020, 3, 1))
    inspected(a_site, date(2021, 6, 15), GREEN, today=date(2021, 6, 15))

    assert sites.effective_status(a_site, date(2022, 6, 14)) == (GREEN, date(2021, 6, 15))
    assert sites.effective_status(a_site, date(2022, 6, 15)) == (BLUE, date(2022, 6, 15))
    assert sites.effective_status(a_site, date(2025, 6, 14)) == (BLUE, date(2022, 6, 15))
    assert sites.effective_status(a_site, date(2025, 6, 15)) == (RED, date(2025, 6, 15))
    assert sites.effective_status(a_site, date(2040, 1, 1)) == (RED, date(2025, 6, 15))


def test_a_never_inspected_site_turns_red_three_years_after_registration():
    a_site = site(date(2021, 1, 20))

    assert sites.effective_status(a_site, date(2024, 1, 19))[0] is BLUE
    assert sites.effective_status(a_site, date(2024, 1, 20)) == (RED, date(2024, 1, 20))
    assert sites.next_transition(a_site) == sites.Transition(date(2024, 1, 20), RED, StatusReason.BLUE_EXPIRED)


def test_blue_counts_from_registration_when_the_green_lapsed_before_the_site_was_registered():
    a_site = site(date(2023, 9, 1))
    inspected(a_site, date(2022, 1, 10), GREEN, today=date(2023, 9, 1))  # an inspection older than the register

    assert a_site.status is BLUE and a_site.status_since == date(2023, 1, 10)
    assert sites.next_transition(a_site) == sites.Transition(date(2026, 9, 1), RED, StatusReason.BLUE_EXPIRED)


def test_yellow_and_red_stay_until_a_new_inspection():
    for result in (YELLOW, RED):
        a_site = site(date(2020, 1, 1))
        inspected(a_site, date(2020, 2, 1), result, today=date(2020, 2, 1))

        assert sites.next_transition(a_site) is None
        assert sites.effective_status(a_site, date(2035, 1, 1)) == (result, date(2020, 2, 1))


def test_next_transition_after_a_day_skips_lapses_already_due():
    a_site = site(date(2020, 1, 1))
    inspected(a_site, date(2020, 1, 1), GREEN, today=date(2020, 1, 1))

    assert sites.next_transition(a_site).status is BLUE
    assert sites.next_transition(a_site, after=date(2021, 1, 1)) == sites.Transition(
        date(2024, 1, 1), RED, StatusReason.BLUE_EXPIRED
    )
    assert sites.next_transition(a_site, after=date(2024, 1, 1)) is None


def test_applying_due_lapses_moves_one_step_per_change_and_only_once():
    a_site = site(date(2020, 1, 1))
    inspected(a_site, date(2020, 1, 1), GREEN, today=date(2020, 1, 1))

    first = sites.apply_due_lapses(a_site, date(2021, 1, 1))
    again = sites.apply_due_lapses(a_site, date(2021, 1, 1))
    later = sites.apply_due_lapses(a_site, date(2030, 1, 1))

    assert [(c.previous, c.status, c.on, c.reason) for c in first] == [
        (GREEN, BLUE, date(2021, 1, 1), StatusReason.GREEN_LAPSED)
    ]
    assert again == []
    assert [(c.previous, c.status, c.on) for c in later] == [(BLUE, RED, date(2024, 1, 1))]


def test_a_long_overdue_green_site_lapses_through_blue_to_red_in_one_pass():
    a_site = site(date(2010, 1, 1))
    inspected(a_site, date(2010, 6, 1), GREEN, today=date(2010, 6, 1))

    changes = sites.apply_due_lapses(a_site, date(2020, 1, 1))

    assert [(c.status, c.on) for c in changes] == [(BLUE, date(2011, 6, 1)), (RED, date(2014, 6, 1))]
    assert sites.lapse_dates(a_site) == (None, None)


def test_an_inspection_sets_the_status_from_its_date_and_restarts_the_clock():
    a_site = site(date(2020, 1, 1))
    inspected(a_site, date(2020, 2, 1), GREEN, today=date(2020, 2, 1))
    sites.apply_due_lapses(a_site, date(2021, 3, 1))  # blue since 2021-02-01

    changes = inspected(a_site, date(2021, 3, 1), GREEN, today=date(2021, 3, 1))

    assert [(c.previous, c.status, c.reason) for c in changes] == [(BLUE, GREEN, StatusReason.INSPECTION)]
    assert sites.lapse_dates(a_site) == (date(2022, 3, 1), date(2025, 3, 1))


def test_a_renewal_is_a_decision_without_a_change():
    a_site = site(date(2020, 1, 1))
    inspected(a_site, date(2020, 2, 1), GREEN, today=date(2020, 2, 1))

    (renewal,) = inspected(a_site, date(2020, 12, 1), GREEN, today=date(2020, 12, 1))

    assert renewal.previous is GREEN and not renewal.changed
    assert sites.effective_status(a_site, date(2021, 6, 1)) == (GREEN, date(2020, 12, 1))


def test_an_inspection_older_than_the_latest_is_history_only():
    a_site = site(date(2020, 1, 1))
    inspected(a_site, date(2021, 5, 1), YELLOW, today=date(2021, 5, 1))

    changes = inspected(a_site, date(2021, 1, 1), GREEN, today=date(2021, 6, 1))

    assert changes == []
    assert a_site.status is YELLOW and a_site.last_inspection_date == date(2021, 5, 1)


def test_an_inspection_on_the_same_day_as_the_latest_wins():
    a_site = site(date(2020, 1, 1))
    inspected(a_site, date(2021, 5, 1), GREEN, today=date(2021, 5, 1))

    inspected(a_site, date(2021, 5, 1), RED, today=date(2021, 5, 2))

    assert a_site.status is RED


def test_an_inspection_recorded_late_applies_its_result_then_the_lapses_since():
    a_site = site(date(2020, 1, 1))

    changes = inspected(a_site, date(2020, 2, 1), GREEN, today=date(2021, 4, 1))

    assert [(c.previous, c.status, c.on) for c in changes] == [
        (BLUE, GREEN, date(2020, 2, 1)),
        (GREEN, BLUE, date(2021, 2, 1)),
    ]


def test_an_inspection_dated_in_the_future_is_refused():
    a_site = site(date(2020, 1, 1))

    with pytest.raises(Invalid) as refused:
        inspected(a_site, date(2024, 1, 2), GREEN, today=date(2024, 1, 1))

    assert refused.value.code == "date_in_future"
    assert a_site.status is BLUE


def test_anniversaries_of_29_february_fall_on_28_february():
    a_site = site(date(2024, 1, 1))
    inspected(a_site, date(2024, 2, 29), GREEN, today=date(2024, 2, 29))

    assert sites.lapse_dates(a_site) == (date(2025, 2, 28), date(2028, 2, 28))


def test_capacity_must_be_positive():
    assert sites.check_capacity(12.5) == 12.5
    assert sites.check_capacity(None) is None
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(Invalid):
            sites.check_capacity(bad)
