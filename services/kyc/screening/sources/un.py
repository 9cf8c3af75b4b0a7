"""UN Security Council consolidated list (XML) importer."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from ..fields import parse_date, year_range
from ..model import ListEntry
from .base import collect, make_entry
from .xmlsafe import parse_xml, text, texts

_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def parse_un_xml(data: bytes) -> list[ListEntry]:
    """Every INDIVIDUAL and ENTITY of a CONSOLIDATED_LIST document."""
    root = parse_xml(data, "CONSOLIDATED_LIST")
    records = []
    for path, tag, build in (
        ("INDIVIDUALS/INDIVIDUAL", "INDIVIDUAL", _individual),
        ("ENTITIES/ENTITY", "ENTITY", _entity),
    ):
        for n, element in enumerate(root.iterfind(path), 1):
            records.append((f"record {n} ({tag})", lambda e=element, b=build: b(e)))
    return collect(records)


def _entry_id(element: Element) -> str:
    # The reference number is what analysts quote; DATAID is the fallback some extracts keep.
    return text(element, "REFERENCE_NUMBER") or text(element, "DATAID")


def _individual(element: Element) -> ListEntry:
    primary = " ".join(p for p in (text(element, part) for part in _NAME_PARTS) if p)
    names = [primary, *texts(element, "INDIVIDUAL_ALIAS/ALIAS_NAME"), *texts(element, "NAME_ORIGINAL_SCRIPT")]
    if not primary:
        raise ValueError("individual without FIRST_NAME")
    return make_entry(
        _entry_id(element),
        "person",
        names,
        birth_dates=[d for dob in element.iterfind("INDIVIDUAL_DATE_OF_BIRTH") for d in _dates(dob)],
        countries=texts(element, "NATIONALITY/VALUE"),
        identifiers=texts(element, "INDIVIDUAL_DOCUMENT/NUMBER"),
        programs=texts(element, "UN_LIST_TYPE"),
        remarks=text(element, "COMMENTS1"),
    )


def _entity(element: Element) -> ListEntry:
    primary = text(element, "FIRST_NAME")
    if not primary:
        raise ValueError("entity without FIRST_NAME")
    return make_entry(
        _entry_id(element),
        "organization",
        [primary, *texts(element, "ENTITY_ALIAS/ALIAS_NAME"), *texts(element, "NAME_ORIGINAL_SCRIPT")],
        countries=texts(element, "ENTITY_ADDRESS/COUNTRY"),
        programs=texts(element, "UN_LIST_TYPE"),
        remarks=text(element, "COMMENTS1"),
    )


def _dates(dob: Element) -> tuple[str, ...]:
    if value := text(dob, "DATE"):
        return (parse_date(value),)
    if value := text(dob, "YEAR"):
        return (parse_date(value),)
    start, end = text(dob, "FROM_YEAR"), text(dob, "TO_YEAR")
    if start and end:
        return year_range(start, end)
    return ()
