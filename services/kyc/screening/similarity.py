"""Token and name similarity: alignment of token lists with reasons for every pairing."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from .normalize import is_generic
from .phonetic import consonant_key, fold, loose_key, romanised_key, vowels_compatible
from .wordlists import NAME_VARIANTS

MIN_TOKEN_SIM = 0.75
INITIAL_SIM = 0.85
FOLDED_SIM = 0.97  # same after folding transliteration clusters: khuseyni/husseini, zhan/jan
KNOWN_VARIANT_SIM = 0.95  # same family of a common given name: mohamed/muhammad, yusuf/youssef
EDIT_COST = 0.06  # per typo edit (OSA distance on folded spellings)
SKELETON_SIM = 0.90  # same consonants and one side vowel-less: mhmd/mohamed (Arabic script)
VOWEL_SIM = 0.90  # same consonants, vowels transliterated differently: daghmash/dughmush, deeb/dib
ROMANISED_SIM = 0.90  # same syllable in another romanisation: chang/zhang, hsi/xi, pak/bak
ARTICLE_SIM = 0.95  # Arabic article written into the word: alnoor/noor
SHORT_ROMANISED = 6  # romanisation folding only for syllable-length words
INDUSTRY_CONFLICT = 0.10  # both names keep different industry words: 'Kivu Gold' vs 'Kivu Tin'
GENERIC_WEIGHT = 0.2
INITIAL_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class TokenPair:
    """One aligned pair: subject token, list token, similarity and how it was established."""

    subject: str
    listed: str
    sim: float
    how: str  # exact | variant | typo | skeleton | initial | different


@dataclass(slots=True)
class NameScore:
    """Similarity of two token lists and the alignment behind it."""

    score: float
    pairs: list[TokenPair] = field(default_factory=list)
    unmatched_subject: list[str] = field(default_factory=list)
    unmatched_listed: list[str] = field(default_factory=list)
    order_differs: bool = False
    compact: bool = False  # decided by comparing the names written without spaces
    industry_conflict: bool = False


@lru_cache(maxsize=1)
def _canonical_names() -> dict[str, str]:
    return {fold(v): fold(group[0]) for group in NAME_VARIANTS for v in group}


def _allowed_edits(length: int) -> int:
    # Typos: one edit in a 4-9 letter word, two from 10 letters on; none in 2-3 letter words.
    return 0 if length <= 3 else 1 if length <= 9 else 2


@lru_cache(maxsize=262_144)
def token_sim(a: str, b: str, vowelless: bool = False) -> tuple[float, str]:
    """Similarity in [0, 1] of two normalised tokens and the kind of resemblance; vowelless says
    one of the names was written in a script without short vowels (Arabic), so equal consonant
    skeletons count ('mhmd' ~ 'mohamed')."""
    if a == b:
        return 1.0, "exact"
    if len(a) == 1 or len(b) == 1:
        return (INITIAL_SIM, "initial") if a[0] == b[0] else (0.0, "")
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return FOLDED_SIM, "variant"
    canonical = _canonical_names()
    if fa in canonical and canonical.get(fa) == canonical.get(fb):
        return KNOWN_VARIANT_SIM, "variant"
    # Raw spelling too: folding can hide a transposition typo ('mwakabu' -> 'mwakaub' -> 'mwakob').
    edits = min(OSA.distance(fa, fb), OSA.distance(a, b))
    if edits <= _allowed_edits(max(len(fa), len(fb))):
        return 1.0 - EDIT_COST * edits, "typo"
    key = consonant_key(a)
    if vowelless and len(key) >= 2 and key == consonant_key(b):
        return SKELETON_SIM, "skeleton"
    if fa in canonical and fb in canonical:  # two known given names of different families: mohamed/mahmoud
        return max(0.0, fuzz.ratio(fa, fb) / 100.0 - 0.2), "different"
    if len(loose_key(a)) >= 2 and loose_key(a) == loose_key(b) and vowels_compatible(a, b):
        return VOWEL_SIM, "variant"
    if max(len(a), len(b)) <= SHORT_ROMANISED and romanised_key(a) == romanised_key(b):
        return ROMANISED_SIM, "variant"
    for x, y in ((a, b), (b, a)):
        if len(x) >= 5 and x[:2] in ("al", "el") and len(y) >= 3 and x[2] not in "aeiou":
            inner = token_sim(x[2:], y, vowelless)[0]
            if inner >= MIN_TOKEN_SIM:
                return inner * ARTICLE_SIM, "variant"
    return max(0.0, fuzz.ratio(fa, fb) / 100.0 - 0.2), "different"


def weight(token: str, generic_light: bool) -> float:
    """Initials and industry words count less than distinctive name parts."""
    if len(token) == 1:
        return INITIAL_WEIGHT
    return GENERIC_WEIGHT if generic_light and is_generic(token) else 1.0


def _align(subject: list[str], listed: list[str], vowelless: bool) -> list[tuple[int, int, float, str]]:
    scored = []
    for i, a in enumerate(subject):
        for j, b in enumerate(listed):
            sim, how = token_sim(a, b, vowelless)
            if sim >= MIN_TOKEN_SIM:
                scored.append((sim, -abs(i - j), i, j, how))
    scored.sort(reverse=True)  # greedy on similarity; ties go to same-position pairs
    used_i: set[int] = set()
    used_j: set[int] = set()
    chosen = []
    for sim, _, i, j, how in scored:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            chosen.append((i, j, sim, how))
    return chosen


def name_score(
    subject: list[str],
    listed: list[str],
    *,
    subject_org: bool = False,
    listed_org: bool = False,
    vowelless: bool = False,
) -> NameScore:
    """Similarity of two token lists from the alignment of their tokens (see _blend)."""
    if not subject or not listed:
        return NameScore(0.0)
    chosen = _align(subject, listed, vowelless)
    ws = [weight(t, subject_org) for t in subject]
    wl = [weight(t, listed_org) for t in listed]
    matched_i = {i for i, *_ in chosen}
    matched_j = {j for _, j, *_ in chosen}
    loose_s = [i for i in range(len(subject)) if i not in matched_i]
    loose_l = [j for j in range(len(listed)) if j not in matched_j]
    score = _blend(chosen, ws, wl, [wl[j] for j in loose_l], [ws[i] for i in loose_s])
    conflict = GENERIC_WEIGHT in (ws[i] for i in loose_s) and GENERIC_WEIGHT in (wl[j] for j in loose_l)
    score -= INDUSTRY_CONFLICT if conflict else 0.0
    chosen.sort()
    order = [j for _, j, _, _ in chosen]
    result = NameScore(
        max(score, 0.0),
        [TokenPair(subject[i], listed[j], sim, how) for i, j, sim, how in chosen],
        [subject[i] for i in loose_s],
        [listed[j] for j in loose_l],
        order != sorted(order),
        industry_conflict=conflict,
    )
    return _compact(subject, listed, result)


def _blend(
    chosen: list[tuple[int, int, float, str]],
    ws: list[float],
    wl: list[float],
    loose_l_w: list[float],
    loose_s_w: list[float],
) -> float:
    """Weighted coverage of each side, mostly the better-covered one, so extra middle names cost
    little. One distinctive word fully matched while the other name keeps distinctive words
    left over is a shared surname, not the same party: both sides then weigh the same."""
    cov_s = sum(sim * ws[i] for i, _, sim, _ in chosen) / sum(ws)
    cov_l = sum(sim * wl[j] for _, j, sim, _ in chosen) / sum(wl)
    hi_w, lo_loose_w = (ws, loose_l_w) if cov_s >= cov_l else (wl, loose_s_w)
    alpha = 0.5 if sum(w == 1.0 for w in hi_w) <= 1 and 1.0 in lo_loose_w else 0.75
    return alpha * max(cov_s, cov_l) + (1 - alpha) * min(cov_s, cov_l)


def _compact(subject: list[str], listed: list[str], result: NameScore) -> NameScore:
    # 'Jeanpierre' vs 'Jean Pierre', 'Abdelaziz' vs 'Abdel Aziz': compare without spaces.
    if len(subject) == len(listed) or result.score >= 0.95:
        return result
    ratio = fuzz.ratio("".join(subject), "".join(listed)) / 100.0 * 0.97
    if ratio > result.score:
        return NameScore(
            ratio,
            result.pairs,
            result.unmatched_subject,
            result.unmatched_listed,
            result.order_differs,
            compact=True,
            industry_conflict=result.industry_conflict,
        )
    return result
