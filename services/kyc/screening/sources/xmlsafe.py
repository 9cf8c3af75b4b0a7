"""Hardened XML parsing: no DTDs, no entities, no external references, namespaces stripped."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_et

from ..model import MalformedList


def parse_xml(data: bytes, root_tag: str) -> Element:
    """Parse untrusted XML; any DTD (billion laughs, XXE) or syntax error -> MalformedList."""
    try:
        root = safe_et.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise MalformedList("document", f"forbidden XML construct ({type(exc).__name__})") from None
    except ParseError as exc:
        line = exc.position[0] if exc.position else "?"
        raise MalformedList(f"line {line}", f"invalid XML: {exc}") from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]
    if root.tag != root_tag:
        raise MalformedList("document", f"root element is <{root.tag}>, expected <{root_tag}>")
    return root


def text(element: Element, path: str) -> str:
    """Stripped text of the first match of path, '' when absent."""
    found = element.find(path)
    return " ".join(found.text.split()) if found is not None and found.text else ""


def texts(element: Element, path: str) -> list[str]:
    """Stripped, non-empty texts of every match of path."""
    return [" ".join(e.text.split()) for e in element.iterfind(path) if e.text and e.text.strip()]
