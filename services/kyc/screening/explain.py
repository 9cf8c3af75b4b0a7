"""Human-readable reasons for a match, for analysts reviewing screening hits."""
from __future__ import annotations

from .normalize import NameAnalysis
from .secondary import Adjustment
from .similarity import NameScore

_SCRIPT_NAMES = {"arabic": "Arabic", "cyrillic": "Cyrillic", "other": "non-Latin"}


def _label(form: str) -> str:
    return form.upper() if len(form) <= 5 else form


def explain(subject: NameAnalysis, listed: NameAnalysis, name: NameScore,
            adjustments: list[Adjustment]) -> list[str]:
    """Reasons, most important first: the name comparison, then each adjustment."""
    lines = [f"name: '{' '.join(subject.tokens)}' ~ '{' '.join(listed.tokens)}' {name.score:.2f}"]
    for side in (subject, listed):
        if side.script in _SCRIPT_NAMES:
            lines.append(f"transliterated from {_SCRIPT_NAMES[side.script]} script")
    for form in dict.fromkeys((*subject.legal_forms, *listed.legal_forms)):
        lines.append(f"legal form ignored: {_label(form)}")
    if name.order_differs:
        lines.append("word order differs")
    for pair in name.pairs:
        if pair.how == "initial":
            short, full = sorted((pair.subject, pair.listed), key=len)
            lines.append(f"initial '{short.upper()}' matches '{full.capitalize()}'")
        elif pair.how == "variant":
            lines.append(f"spelling variant: '{pair.subject}' ~ '{pair.listed}' ({pair.sim:.2f})")
        elif pair.how == "skeleton":
            lines.append(f"same consonants: '{pair.subject}' ~ '{pair.listed}' ({pair.sim:.2f})")
        elif pair.how == "typo":
            lines.append(f"typo: '{pair.subject}' ~ '{pair.listed}' ({pair.sim:.2f})")
    if name.unmatched_subject:
        lines.append(f"not in listed name: {', '.join(name.unmatched_subject)}")
    if name.unmatched_listed:
        lines.append(f"not in subject name: {', '.join(name.unmatched_listed)}")
    if name.industry_conflict:
        lines.append("industry words differ (-0.10)")
    if name.compact:
        lines.append("names compared without spaces")
    lines.extend(reason for _, reason in adjustments)
    return lines
