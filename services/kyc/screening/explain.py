"""Human-readable reasons for a match, for analysts reviewing screening hits."""

from __future__ import annotations

from .normalize import NameAnalysis
from .secondary import Adjustment
from .similarity import INDUSTRY_CONFLICT, NameScore, TokenPair

_SCRIPT_NAMES = {"arabic": "Arabic", "cyrillic": "Cyrillic", "other": "non-Latin"}
_PAIR_TEMPLATES = {
    "variant": "spelling variant: '{s}' ~ '{l}' ({sim:.2f})",
    "skeleton": "same consonants: '{s}' ~ '{l}' ({sim:.2f})",
    "typo": "typo: '{s}' ~ '{l}' ({sim:.2f})",
}


def explain(subject: NameAnalysis, listed: NameAnalysis, name: NameScore, adjustments: list[Adjustment]) -> list[str]:
    """Reasons, most important first: the name comparison, then each adjustment."""
    lines = [f"name: '{' '.join(subject.tokens)}' ~ '{' '.join(listed.tokens)}' {name.score:.2f}"]
    for side, analysis in (("subject", subject), ("listed name", listed)):
        if analysis.script in _SCRIPT_NAMES:
            lines.append(f"{side} transliterated from {_SCRIPT_NAMES[analysis.script]} script")
    for form in dict.fromkeys((*subject.legal_forms, *listed.legal_forms)):
        lines.append(f"legal form ignored: {form.upper() if len(form) <= 5 else form}")
    if name.order_differs:
        lines.append("word order differs")
    lines.extend(line for pair in name.pairs if (line := _pair_line(pair)))
    if name.unmatched_subject:
        lines.append(f"not in listed name: {', '.join(name.unmatched_subject)}")
    if name.unmatched_listed:
        lines.append(f"not in subject name: {', '.join(name.unmatched_listed)}")
    if name.industry_conflict:
        lines.append(f"industry words differ ({-INDUSTRY_CONFLICT:+.2f})")
    if name.compact:
        lines.append("names compared without spaces")
    lines.extend(reason for _, reason in adjustments)
    return lines


def _pair_line(pair: TokenPair) -> str | None:
    if pair.how == "initial":
        short, full = sorted((pair.subject, pair.listed), key=len)
        return f"initial '{short.upper()}' matches '{full.capitalize()}'"
    template = _PAIR_TEMPLATES.get(pair.how)
    return template.format(s=pair.subject, l=pair.listed, sim=pair.sim) if template else None
