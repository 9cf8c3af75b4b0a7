"""Rules of the register and the workflow, without I/O."""

from __future__ import annotations

from datetime import date

import pytest

from libs.common.errors import Conflict, Forbidden, Invalid
from services.kyc.domain import actors, documents, licences, persons, review, workflow
from services.kyc.domain.history import diff


def actor_values(**overrides):  # type: ignore[no-untyped-def]
    values = {
        "actor_type": "trader",
        "legal_name": "  Comptoir   Minier ",
        "aliases": ["CMG", "cmg", " ", "Comptoir Minier"],
        "registration_number": " rccm  14-b ",
        "tax_number": None,
        "country": "cd",
        "region": "cd-nk",
        "addresses": [],
        "contacts": [],
        "minerals": ["7108", "2616.00", "7108"],
        "smelter_facility_id": None,
    }
    values.update(overrides)
    return values


def test_actor_fields_are_normalised():
    clean = actors.normalise(actor_values())
    assert clean["legal_name"] == "Comptoir Minier"
    assert clean["aliases"] == ["CMG"]
    assert clean["registration_number"] == "RCCM 14-B"
    assert (clean["country"], clean["region"]) == ("CD", "CD-NK")
    assert clean["minerals"] == ["7108", "261600"]


@pytest.mark.parametrize("code", ["710", "71081", "7108123456789", "gold", "71O8"])
def test_hs_codes_must_have_4_6_8_or_10_digits(code):
    with pytest.raises(Invalid) as error:
        actors.hs_codes([code])
    assert error.value.code == "invalid_hs_code"


@pytest.mark.parametrize(
    "country, region, code",
    [("ZZ", None, "unknown_country"), ("CD", "CD-XX", "unknown_region"), ("CD", "RW-02", "region_country_mismatch")],
)
def test_places_are_iso_3166(country, region, code):
    with pytest.raises(Invalid) as error:
        actors.normalise(actor_values(country=country, region=region))
    assert error.value.code == code


def test_only_smelters_carry_a_facility_id_of_the_rmi_form():
    assert actors.facility_id("smelter_refiner", "cid001234") == "CID001234"
    with pytest.raises(Invalid) as error:
        actors.facility_id("trader", "CID001234")
    assert error.value.code == "facility_id_not_allowed"
    with pytest.raises(Invalid) as error:
        actors.facility_id("smelter_refiner", "CID12")
    assert error.value.code == "invalid_facility_id"


def test_owners_shares_above_100_are_refused_but_shareholders_and_owners_add_up_apart():
    persons.check_ownership([("beneficial_owner", 60), ("beneficial_owner", 40), ("shareholder", 100)])
    with pytest.raises(Invalid) as error:
        persons.check_ownership([("beneficial_owner", 60), ("director", 40.5)])
    assert error.value.code == "ownership_exceeds_100"


def test_a_birth_date_in_the_future_is_refused_and_a_company_has_none():
    base = {"person_type": "natural", "full_name": "A B", "role": "director", "nationality": None}
    with pytest.raises(Invalid) as error:
        persons.normalise({**base, "birth_date": date(2031, 1, 1)}, today=date(2030, 1, 1))
    assert error.value.code == "birth_date_in_future"
    with pytest.raises(Invalid) as error:
        persons.normalise({**base, "person_type": "legal", "birth_date": date(2000, 1, 1)}, today=date(2030, 1, 1))
    assert error.value.code == "birth_date_not_applicable"


def test_a_licence_ending_before_it_starts_is_refused():
    with pytest.raises(Invalid) as error:
        licences.check_dates(date(2025, 1, 2), date(2025, 1, 1))
    assert error.value.code == "dates_out_of_order"
    licences.check_dates(date(2025, 1, 1), date(2025, 1, 1))


def test_a_licence_is_valid_through_its_last_day_and_expiring_within_the_lead_time():
    assert licences.state(date(2025, 1, 1), date(2025, 6, 30), date(2025, 4, 30), lead_days=60) == "valid"
    assert licences.state(date(2025, 1, 1), date(2025, 6, 30), date(2025, 5, 1), lead_days=60) == "expiring"
    assert licences.state(date(2025, 1, 1), date(2025, 6, 30), date(2025, 6, 30), lead_days=60) == "expiring"
    assert licences.state(date(2025, 1, 1), date(2025, 6, 30), date(2025, 6, 29), lead_days=0) == "valid"
    assert licences.state(date(2025, 1, 1), date(2025, 6, 30), date(2025, 7, 1), lead_days=60) == "expired"
    assert licences.state(date(2025, 1, 1), None, date(2024, 12, 31), lead_days=60) == "not_yet_valid"
    assert licences.state(date(2025, 1, 1), None, date(2090, 1, 1), lead_days=60) == "valid"


def test_moves_follow_the_workflow():
    assert workflow.next_status("draft", "submit") == "submitted"
    assert workflow.next_status("suspended", "reinstate") == "approved"
    assert workflow.next_status("rejected", "reopen") == "draft"
    for status, action in [
        ("draft", "approve"),
        ("submitted", "approve"),
        ("approved", "submit"),
        ("rejected", "approve"),
        ("suspended", "suspend"),
    ]:
        with pytest.raises(Conflict) as error:
            workflow.next_status(status, action)
        assert error.value.code == "invalid_transition"


def test_the_submitter_never_approves():
    with pytest.raises(Forbidden) as error:
        workflow.check_four_eyes(submitted_by="alice", decided_by="alice")
    assert error.value.code == "four_eyes"
    workflow.check_four_eyes(submitted_by="alice", decided_by="bob")


@pytest.mark.parametrize(
    "area, actor_type, owner, licence, level",
    [
        ("high", "smelter_refiner", True, True, "high"),
        ("standard", "smelter_refiner", True, True, "low"),
        ("standard", "trader", True, True, "medium"),
        ("standard", "mine_operator", False, True, "medium"),
        ("standard", "trader", False, True, "high"),
        ("standard", "processor", False, False, "high"),
    ],
)
def test_risk_level_rule(area, actor_type, owner, licence, level):
    assessment = review.assess(
        area_risk=area, actor_type=actor_type, has_beneficial_owner=owner, has_valid_licence=licence
    )
    assert assessment.level == level


def test_next_review_date_follows_the_risk_level():
    months = {"high": 12, "medium": 24, "low": 36}
    assert review.next_review_date(date(2025, 3, 15), "high", months) == date(2026, 3, 15)
    assert review.next_review_date(date(2024, 2, 29), "medium", months) == date(2026, 2, 28)
    assert review.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert not review.is_overdue(date(2025, 1, 1), date(2025, 1, 1))
    assert review.is_overdue(date(2025, 1, 1), date(2025, 1, 2))


def test_history_keeps_only_changed_fields():
    changes = diff({"a": 1, "b": date(2025, 1, 1), "c": [1]}, {"a": 1, "b": date(2025, 1, 2), "c": [1]})
    assert changes == {"b": {"before": "2025-01-01", "after": "2025-01-02"}}


def test_document_names_and_types():
    assert documents.safe_filename("../../etc/passwd") == "passwd"
    assert documents.safe_filename("C:\\docs\\permis\x00.pdf") == "permis.pdf"
    assert documents.declared_type("application/octet-stream", "scan.PDF") == "application/pdf"
    assert documents.declared_type("image/jpg", "a") == "image/jpeg"
