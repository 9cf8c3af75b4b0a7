"""OFAC SDN importers: the XML publication and the classic headerless sdn.csv."""

from __future__ import annotations

import csv
import io
import re
from functools import partial
from xml.etree.ElementTree import Element

from ..fields import parse_date, year_range
from ..model import ListEntry
from .base import collect, decode, make_entry
from .xmlsafe import parse_xml, text, texts

_KINDS = {"individual": "person", "entity": "organization", "": "organization", "vessel": "vessel", "aircraft": "other"}
# idList carries contact details and flags next to real document numbers.
_NOT_IDENTIFIERS = (
    "website",
    "email",
    "gender",
    "secondary sanctions",
    "digital currency",
    "phone",
    "fax",
    "sanctions risk",
    "additional sanctions",
    "organization established",
)
_CSV_COLUMNS = 12


def parse_ofac_xml(data: bytes) -> list[ListEntry]:
    """Every sdnEntry of an sdnList document (namespace-agnostic)."""
    root = parse_xml(data, "sdnList")
    return collect(
        (f"record {n} (sdnEntry)", partial(_sdn_entry, element))
        for n, element in enumerate(root.iterfind("sdnEntry"), 1)
    )


def _xml_name(element: Element) -> str:
    return " ".join(p for p in (text(element, "firstName"), text(element, "lastName")) if p)


def _sdn_entry(element: Element) -> ListEntry:
    kind_text = text(element, "sdnType").casefold()
    if kind_text not in _KINDS:
        raise ValueError(f"unknown sdnType {kind_text!r}")
    kind = _KINDS[kind_text]
    countries = texts(element, "nationalityList/nationality/country")
    countries += texts(element, "citizenshipList/citizenship/country")
    if kind != "person":
        countries += texts(element, "addressList/address/country")
    ids = [
        text(i, "idNumber")
        for i in element.iterfind("idList/id")
        if not any(word in text(i, "idType").casefold() for word in _NOT_IDENTIFIERS)
    ]
    return make_entry(
        text(element, "uid"),
        kind,
        [_xml_name(element), *(_xml_name(aka) for aka in element.iterfind("akaList/aka"))],
        birth_dates=[d for v in texts(element, "dateOfBirthList/dateOfBirthItem/dateOfBirth") for d in _ofac_dates(v)],
        countries=countries,
        identifiers=ids,
        programs=texts(element, "programList/program"),
        remarks=text(element, "remarks"),
    )


def _ofac_dates(value: str) -> tuple[str, ...]:
    if m := re.fullmatch(r"(.+?)\s+to\s+(.+)", value.strip(), flags=re.IGNORECASE):
        return year_range(m[1], m[2])
    return (parse_date(value),)


def parse_ofac_csv(data: bytes) -> list[ListEntry]:
    """The headerless sdn.csv: ent_num, SDN_Name, SDN_Type, Program, ..., Remarks; '-0-' is empty."""
    text_data = decode(data).rstrip("\x1a\n ")  # OFAC still ends the file with a DOS EOF byte
    reader = csv.reader(io.StringIO(text_data))
    records = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        records.append((f"line {reader.line_num}", lambda r=row: _csv_row(r)))
    return collect(records)


def _csv_row(row: list[str]) -> ListEntry:
    if len(row) != _CSV_COLUMNS:
        raise ValueError(f"expected {_CSV_COLUMNS} columns, found {len(row)}")
    cells = ["" if c.strip() == "-0-" else c.strip() for c in row]
    ent_num, name, sdn_type, program, remarks = cells[0], cells[1], cells[2], cells[3], cells[11]
    if not ent_num.isdigit():
        raise ValueError(f"ent_num {ent_num!r} is not a number")
    kind = _KINDS.get(sdn_type.casefold())
    if kind is None:
        raise ValueError(f"unknown SDN_Type {sdn_type!r}")
    if kind == "person" and name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        name = f"{first} {last}"  # OFAC writes 'LASTNAME, Firstname'
    return make_entry(
        ent_num,
        kind,
        [name, *_remark_aliases(remarks)],
        birth_dates=[d for v in re.findall(r"\bDOB ([^;.]+)", remarks) for d in _ofac_dates(v)],
        countries=re.findall(r"\b(?:nationality|citizen) ([^;.(]+)", remarks),
        programs=[p.strip(" []") for p in program.split("] [") if p.strip(" []")],
        remarks=remarks,
    )


def _remark_aliases(remarks: str) -> list[str]:
    return re.findall(r"\ba\.k\.a\.,? '([^']+)'", remarks)
