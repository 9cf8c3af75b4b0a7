"""Token and name similarity: alignment of token lists with reasons for every pairing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .normalize import is_generic
from .phonetic import consonant_key, fold, loose_key, romanised_key, vowels_compatible
from .wordlists import EAST_ASIAN_SURNAMES, NAME_VARIANTS

_VOWEL_RUN = re.compile(r"[aeiouy]+")
_VOWELS = frozenset("aeiou")

MIN_TOKEN_SIM = 0.75
INITIAL_SIM = 0.85
FOLDED_SIM = 0.97  # same after folding transliteration clusters: khuseyni/husseini, zhan/jan
KNOWN_VARIANT_SIM = 0.95  # same family of a common given name: mohamed/muhammad, yusuf/youssef
EDIT_COST = 0.06  # per typo edit (OSA distance on folded spellings)
SKELETON_SIM = 0.90  # same consonants and one side vowel-less: mhmd/mohamed (Arabic script)
VOWEL_SIM = 0.90  # same consonants, vowels transliterated differently: daghmash/dughmush, deeb/dib
ROMANISED_SIM = 0.90  # same syllable in another romanisation: chang/zhang, hsi/xi, pak/bak
ARTICLE_SIM = 0.95  # Arabic article written into the word: alnoor/noor
VOWEL_COUNT_SIM = 0.86  # same consonants, a vowel more or less: emireits/emirates, hissene/hissein
BALTIC_ENDING = 0.95  # Lithuanian and Latvian nominative endings: leontjevas/leontiev, vladislavas/vladislav
_BALTIC = ("as", "is", "ys", "us", "s")
# Transliterations of the Arabic ending -iyya (ta marbuta or ha after ya): 'hameih', 'hamiah', 'hamiyah', 'hamieh'.
_NISBA = ("iyyah", "iyya", "iyyeh", "eyyah", "eyya", "iyah", "iyeh", "eyah", "iya", "eya", "iah", "ieh", "eih", "ia")
NISBA_MIN_STEM = 3
GERMAN_CH_MIN = 6
SHORT_ROMANISED = 6  # romanisation folding only for syllable-length words
INDUSTRY_CONFLICT = 0.10  # both names keep different industry words: 'Kivu Gold' vs 'Kivu Tin'
GENERIC_WEIGHT = 0.2
INITIAL_WEIGHT = 0.5
PATRONYMIC_WEIGHT = 0.5
JOINED_SIM = 0.90  # two words on one side written as one on the other: 'energo oil' ~ 'energooil'
LONE_TYPO = 0.08  # the only distinctive word matched is a typo: 'mining katanga' vs 'kananga' (two places)

FULL_COVER_ALPHA = 0.8
IDENTIFYING = 0.75  # rarity from which a distinctive word identifies a party on its own
RARE_WORD = 0.95  # rarity of words few names share (surnames rather than given names)
GENERIC_ONLY_CAP = 0.80  # names that share only industry words are not the same party

Rarity = Callable[[str], float]  # 1.0 for a rare word, less for words many list names share


def _rare(token: str) -> float:
    return 1.0


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


_FAMILY = {v: group[0] for group in NAME_VARIANTS for v in group}


def canonical_name(token: str) -> str | None:
    """The spelling family of a common given name as the table writes it ('ihar', 'igor' -> 'igor'), None for other
    words: a plain look-up, cheap enough for every word blocking meets."""
    return _FAMILY.get(token)


def _allowed_edits(length: int) -> int:
    # Typos: one edit in a 4-9 letter word, two from 10 letters on; none in 2-3 letter words.
    return 0 if length <= 3 else 1 if length <= 9 else 2


@lru_cache(maxsize=262_144)
def token_sim(a: str, b: str, vowelless: bool = False, syllabic: bool = False) -> tuple[float, str]:
    """Similarity in [0, 1] of two normalised tokens and the kind of resemblance; vowelless says
    one of the names was written in a script without short vowels (Arabic), so equal consonant
    skeletons count ('mhmd' ~ 'mohamed'); syllabic says both are East Asian names, where a letter
    more or less is another syllable, so no typo is assumed."""
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
    if edits <= _allowed_edits(max(len(fa), len(fb))) and not syllabic:
        return 1.0 - EDIT_COST * edits, "typo"
    key = consonant_key(a)
    if vowelless and len(key) >= 2 and key == consonant_key(b):
        return SKELETON_SIM, "skeleton"
    if fa in canonical and fb in canonical:  # two known given names of different families: mohamed/mahmoud
        return max(0.0, fuzz.ratio(fa, fb) / 100.0 - 0.2), "different"
    if (
        not syllabic
        and (a[0] == b[0] or (a[0] in _VOWELS and b[0] in _VOWELS))  # vowels_compatible's first test, before the keys
        and len(loose_key(a)) >= 2
        and loose_key(a) == loose_key(b)
        and vowels_compatible(a, b)
    ):
        return VOWEL_SIM, "variant"
    if max(len(a), len(b)) <= SHORT_ROMANISED and romanised_key(a) == romanised_key(b):
        return ROMANISED_SIM, "variant"
    if not syllabic and _vowel_count_variant(a, b):
        return VOWEL_COUNT_SIM, "variant"
    if not syllabic:
        # spellings that differ in a cluster or an ending: German ch for kh, the Arabic -iyya, Baltic endings
        respelt = (
            (_german_ch(a, b, vowelless) if ("ch" in a and "kh" in b) or ("kh" in a and "ch" in b) else 0.0)
            or (_nisba(a, b, vowelless) if a[-1] in "ah" and b[-1] in "ah" else 0.0)  # how -iyya ends
            or (_baltic(a, b, vowelless) if (a[-1] == "s") != (b[-1] == "s") else 0.0)  # one side only
            or (_slavic_h(a, b, vowelless) if a[0] + b[0] in ("hg", "gh") else 0.0)
        )
        if respelt:
            return respelt, "variant"
    for x, y in ((a, b), (b, a)):
        if len(x) >= 5 and x[:2] in ("al", "el") and len(y) >= 3 and x[2] not in "aeiou":
            inner = token_sim(x[2:], y, vowelless)[0]
            if inner >= MIN_TOKEN_SIM:
                return inner * ARTICLE_SIM, "variant"
    return max(0.0, fuzz.ratio(fa, fb) / 100.0 - 0.2), "different"


def may_reach(a: str, words: list[str]) -> list[str]:
    """The words w for which token_sim(a, w) (not vowelless, not syllabic) may reach MIN_TOKEN_SIM: for each branch
    of token_sim that can return that much, a cheap test it must pass, the edit distances and the closing ratio
    computed for all words at once. Blocking verifies the thousand or more neighbours of a short consonant key, most
    of them different words, and skips token_sim for those none of the tests lets through (a superset: token_sim
    still decides). Keep in step with token_sim; tests/kyc/screening/test_may_reach.py compares the two."""
    if len(a) == 1:
        return words
    fa = fold(a)
    if fa in _canonical_names():
        return words  # the given-name branches compare families: not worth a test of their own
    folds = [fold(w) for w in words]
    raw = process.cdist([a], words, scorer=OSA.distance, score_cutoff=2)[0].tolist()
    folded = process.cdist([fa], folds, scorer=OSA.distance, score_cutoff=2)[0].tolist()
    # the last branch: fuzz.ratio / 100 - 0.2 >= MIN_TOKEN_SIM needs a ratio of 95; 94 leaves rounding a margin
    ratio = process.cdist([fa], folds, scorer=fuzz.ratio, score_cutoff=94)[0].tolist()
    la = loose_key(a)
    loose = len(la) >= 2
    ra = romanised_key(a) if len(a) <= SHORT_ROMANISED else None
    a0, n, size = a[0], len(a), len(fa)
    a_vowel, a_nisba, a_s = a0 in _VOWELS, a.endswith(_NISBA), a[-1] == "s"
    ch, kh = "ch" in a, "kh" in a
    a_article = n >= 5 and a[:2] in ("al", "el") and a[2] not in "aeiou"
    out = []
    for w, fb, d_raw, d_folded, r in zip(words, folds, raw, folded, ratio, strict=True):
        m, d = len(w), min(d_raw, d_folded)
        if (
            r
            or m == 1
            or fb == fa
            or (d <= 2 and d <= _allowed_edits(max(size, len(fb))))  # typo
            or (loose and (w[0] == a0 or (a_vowel and w[0] in _VOWELS)) and loose_key(w) == la)  # vowels
            or (ra is not None and m <= SHORT_ROMANISED and romanised_key(w) == ra)  # romanisation
            or (ch and "kh" in w)
            or (kh and "ch" in w)  # German ch
            or (a_nisba and w.endswith(_NISBA))
            or (a_s != (w[-1] == "s") and (n >= 6 or m >= 6))  # Baltic ending
            or a0 + w[0] in ("hg", "gh")  # Slavic h
            or (a_article and m >= 3)
            or (m >= 5 and w[:2] in ("al", "el") and w[2] not in "aeiou" and n >= 3)  # Arabic article
        ):
            out.append(w)
    return out


def _vowel_count_variant(a: str, b: str) -> bool:
    """Same consonant skeleton (at least three consonants, same first letter, words of four letters or more, lengths
    within two letters) with a vowel written, dropped or merged: transliterations disagree on how many vowels a sound
    takes ('dikr' ~ 'dakkar')."""
    if a[0] != b[0] or abs(len(a) - len(b)) > 2 or min(len(a), len(b)) < 4:
        return False
    key = loose_key(a)
    if len(key) < 3 or key != loose_key(b):
        return False
    return len(_VOWEL_RUN.findall(a)) != len(_VOWEL_RUN.findall(b))


_GERMAN_CH = re.compile(r"(?<![st])ch")


def german_kh(token: str) -> str:
    """The word with a German ch read as kh ('tochtachunov' -> 'tokhtakhunov'); sch and tsch stay."""
    return _GERMAN_CH.sub("kh", token)


def _german_ch(a: str, b: str, vowelless: bool) -> float:
    """German, Polish and Czech transliterations write Russian and Arabic kh as ch ('Tochtachunov' for
    'Tokhtakhunov'), where English and French ch is sh or tch: read ch as kh on one side and compare again. Not in
    syllable-length words, where ch is a Chinese or Korean initial ('Chan' is not 'Khan')."""
    for x, y in ((a, b), (b, a)):
        if len(x) < GERMAN_CH_MIN or "ch" not in x or "kh" not in y or "ch" in y:
            continue
        read = german_kh(x)
        if read != x:
            sim, how = token_sim(read, y, vowelless)
            return min(sim, VOWEL_SIM) if how != "different" and sim >= 0.88 else 0.0
    return 0.0


def _nisba_form(token: str) -> str | None:
    """The word with an Arabic -iyya ending (ـية / ـيه) written one way, None without one."""
    if not token.endswith(_NISBA):
        return None
    for ending in _NISBA:
        if token.endswith(ending) and len(token) - len(ending) >= NISBA_MIN_STEM:
            return token[: -len(ending)] + "iya"
    return None


def _nisba(a: str, b: str, vowelless: bool) -> float:
    """The Arabic ending -iyya written differently on each side ('hameih' ~ 'hamiah', 'sulaymaniyah' ~
    'sulaimaniya'): compare the words with that ending written alike."""
    na, nb = _nisba_form(a), _nisba_form(b)
    if na is None or nb is None or (na, nb) == (a, b):
        return 0.0
    if na == nb:
        return VOWEL_SIM
    sim, how = token_sim(na, nb, vowelless)  # a spelling of the same stem, not a typo: 'hamiah' is not 'hakeih'
    return min(sim, VOWEL_SIM) if how == "variant" and sim >= 0.88 else 0.0


def _baltic(a: str, b: str, vowelless: bool) -> float:
    """A Lithuanian or Latvian nominative ending on one side only: compare the stems."""
    for x, y in ((a, b), (b, a)):
        if len(x) < 6 or x[-1] != "s" or y.endswith("s"):
            continue
        for ending in _BALTIC:
            if x.endswith(ending) and len(x) - len(ending) >= 4:
                stem = x[: -len(ending)]
                if stem[-1] in "aeiou" and ending != "s":
                    continue
                sim = token_sim(stem, y, vowelless)[0] if stem != y else 1.0
                if sim >= 0.88:
                    return sim * BALTIC_ENDING
                break
    return 0.0


def _slavic_h(a: str, b: str, vowelless: bool) -> float:
    """Belarusian and Ukrainian write the Russian initial g as h ('Hrodna' for 'Grodno', 'Hlybokaye' for
    'Glubokoye'); only before r or l, where no English or Arabic romanisation starts a word with h."""
    for x, y in ((a, b), (b, a)):
        if len(x) >= 4 and x[0] == "h" and x[1] in "rl" and y[:2] == "g" + x[1]:
            sim, how = token_sim("g" + x[1:], y, vowelless)
            return min(sim, VOWEL_SIM) if how != "different" and sim >= 0.88 else 0.0
    return 0.0


_PATRONYMIC = ("ovich", "evich", "ovitj", "evitj", "avich", "avitj", "ovna", "evna", "ievna", "ivna", "auna", "ichna")


@lru_cache(maxsize=131_072)
def weight(token: str, generic_light: bool) -> float:
    """Initials, patronymics and industry words count less than distinctive name parts (a list often records a
    person with and without the patronymic: 'Losyakin, Aleksandr' / 'Lasyakin, Aliaksandr Mikhailavich')."""
    if len(token) == 1:
        return INITIAL_WEIGHT
    if len(token) > 6 and token.endswith(_PATRONYMIC):
        return PATRONYMIC_WEIGHT
    return GENERIC_WEIGHT if generic_light and is_generic(token) else 1.0


def _align(subject: list[str], listed: list[str], vowelless: bool, syllabic: bool) -> list[tuple[int, int, float, str]]:
    scored = []
    for i, a in enumerate(subject):
        for j, b in enumerate(listed):
            # the three-argument call shares its cache entries with blocking's verification of the same pairs
            sim, how = token_sim(a, b, vowelless, True) if syllabic else token_sim(a, b, vowelless)
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
    rarity: Rarity = _rare,
) -> NameScore:
    """Similarity of two token lists from the alignment of their tokens (see _blend); rarity weighs each word by how
    few names of the list share it, so common given names and surnames decide less than rare ones."""
    if not subject or not listed:
        return NameScore(0.0)
    syllabic = not vowelless and _east_asian(subject) and _east_asian(listed)
    chosen = _align(subject, listed, vowelless, syllabic)
    if len(chosen) < len(subject) and len(chosen) < len(listed):
        # words left over on both sides may be one word written as two: join them and align again
        used_i, used_j = {c[0] for c in chosen}, {c[1] for c in chosen}
        loose_i = [t for i, t in enumerate(subject) if i not in used_i]
        loose_j = [t for j, t in enumerate(listed) if j not in used_j]
        joined_s = _joined(subject, loose_i, loose_j, vowelless) if len(loose_i) >= 2 else subject
        joined_l = _joined(listed, loose_j, loose_i, vowelless) if len(loose_j) >= 2 else listed
        if joined_s is not subject or joined_l is not listed:
            subject, listed = joined_s, joined_l
            chosen = _align(subject, listed, vowelless, syllabic)
    ks = [weight(t, subject_org) for t in subject]  # kind of word: distinctive 1.0, initial, industry word
    kl = [weight(t, listed_org) for t in listed]
    rs, rl = [rarity(t) for t in subject], [rarity(t) for t in listed]
    matched_i, matched_j = set(), set()
    generic_only = True
    distinctive: list[str] = []
    for i, j, _, how in chosen:  # a matched pair is as common as its more common side
        rs[i] = rl[j] = min(rs[i], rl[j])
        matched_i.add(i)
        matched_j.add(j)
        if ks[i] > GENERIC_WEIGHT:
            generic_only = False
        if ks[i] == 1.0 and kl[j] == 1.0:
            distinctive.append(how)
    ws = [k * r for k, r in zip(ks, rs, strict=True)]
    wl = [k * r for k, r in zip(kl, rl, strict=True)]
    loose_s = [i for i in range(len(subject)) if i not in matched_i]
    loose_l = [j for j in range(len(listed)) if j not in matched_j]
    loose_ks, loose_kl = [ks[i] for i in loose_s], [kl[j] for j in loose_l]
    # Words that identify: distinctive and not shared by many list names ('jean', 'mohamed' are not).
    ids = [_identifies(k, r) for k, r in zip(ks, rs, strict=True)]
    idl = [_identifies(k, r) for k, r in zip(kl, rl, strict=True)]
    score = _blend(chosen, ws, wl, ids, idl, loose_kl, loose_ks)
    if generic_only and (loose_s or loose_l):
        score = min(score, GENERIC_ONLY_CAP)  # only industry words in common: 'Africa Gold Trading' / 'Gold Trading'
    conflict = GENERIC_WEIGHT in loose_ks and GENERIC_WEIGHT in loose_kl
    score -= INDUSTRY_CONFLICT if conflict else 0.0
    score -= LONE_TYPO if distinctive == ["typo"] else 0.0
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


def _east_asian(tokens: list[str]) -> bool:
    return any(t in EAST_ASIAN_SURNAMES for t in tokens) and all(len(t) <= 8 for t in tokens)


def _joined(side: list[str], loose: list[str], other: list[str], vowelless: bool) -> list[str]:
    """Two adjacent words written as one word of the other name ('energo oil' / 'energooil', 'shi fu' / 'xifu')
    become that one word, so the alignment pairs whole words. Only words left unmatched are tried: loose on this
    side, other the other side's; the same list comes back when nothing was joined."""
    tolerance = max(len(o) for o in other) // 2 if vowelless else 2
    lengths = {len(o) for o in other}
    free = set(loose)
    out: list[str] | None = None
    i = 0
    while i < len(side) - 1:
        first, second = side[i], side[i + 1]
        size = len(first) + len(second)
        if (
            first in free
            and second in free
            and min(len(first), len(second)) >= 2
            and any(abs(n - size) <= tolerance for n in lengths)
            and any(
                (o[0] == first[0] or romanised_key(o)[:1] == romanised_key(first)[:1])
                and token_sim(first + second, o, vowelless)[0] >= JOINED_SIM
                for o in other
            )
        ):
            out = (side[:i] if out is None else out) + [first + second]
            i += 2
        else:
            if out is not None:
                out.append(first)
            i += 1
    if out is None:
        return side
    return out + side[i:]


_RARE, _IDENTIFIES = 1.0, 0.95  # markers for _blend: a rare distinctive word, a distinctive word not too common


def _identifies(kind: float, rarity: float) -> float:
    if kind != 1.0:
        return min(kind, 0.9)
    return _RARE if rarity >= RARE_WORD else _IDENTIFIES if rarity >= IDENTIFYING else 0.9


def _blend(
    chosen: list[tuple[int, int, float, str]],
    ws: list[float],
    wl: list[float],
    ids: list[float],
    idl: list[float],
    loose_l_k: list[float],
    loose_s_k: list[float],
) -> float:
    """Weighted coverage of each side, mostly the better-covered one, so extra middle names cost
    little. One distinctive word fully matched while the other name keeps distinctive words
    left over is a shared surname, not the same party: both sides then weigh the same."""
    cov_s = sum(sim * ws[i] for i, _, sim, _ in chosen) / sum(ws)
    cov_l = sum(sim * wl[j] for _, j, sim, _ in chosen) / sum(wl)
    hi_k, lo_loose_k = (ids, loose_l_k) if cov_s >= cov_l else (idl, loose_s_k)
    if sum(k >= _IDENTIFIES for k in hi_k) <= 1 and 1.0 in lo_loose_k:
        alpha = 0.5
    elif sum(k == _RARE for k in hi_k) >= 2 and max(cov_s, cov_l) >= 0.9:
        alpha = FULL_COVER_ALPHA  # two rare words, both found: the other name's extra words cost less
    else:
        alpha = 0.75
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
