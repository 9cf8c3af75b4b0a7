"""List entry model and the importers for every supported list format."""

from __future__ import annotations

from collections.abc import Callable

from .model import KINDS, ListEntry, MalformedList
from .sources.ftm import parse_ftm_jsonl
from .sources.ofac import parse_ofac_csv, parse_ofac_xml
from .sources.operator_csv import parse_csv
from .sources.un import parse_un_xml

__all__ = [
    "FORMATS",
    "KINDS",
    "ListEntry",
    "MalformedList",
    "parse_csv",
    "parse_ftm_jsonl",
    "parse_list",
    "parse_ofac_csv",
    "parse_ofac_xml",
    "parse_un_xml",
]

FORMATS: dict[str, Callable[[bytes], list[ListEntry]]] = {
    "un_xml": parse_un_xml,
    "ofac_xml": parse_ofac_xml,
    "ofac_csv": parse_ofac_csv,
    "ftm_jsonl": parse_ftm_jsonl,
    "csv": parse_csv,
}


def parse_list(fmt: str, data: bytes) -> list[ListEntry]:
    """Parse a whole list; MalformedList on any bad record, ValueError on an unknown format."""
    try:
        parser = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown list format {fmt!r}; expected one of {', '.join(FORMATS)}") from None
    return parser(data)
