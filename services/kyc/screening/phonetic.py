"""Phonetic keys for name tokens, tuned for Latin, Cyrillic-derived and Arabic-derived spellings."""

from __future__ import annotations

import re
from functools import lru_cache

# Order matters: longer clusters first. Chosen so that common transliteration pairs collapse:
# kh/h (Russian Х for Arabic ح), zh/dj/j, tsh/tch/ch/sh, ph/f, z/s, c/k, q/k, x/ks, au/o.
_CLUSTERS = [
    ("shch", "s"),
    ("tsch", "s"),
    ("dzh", "j"),
    ("dgi", "ji"),  # 'badgie' ~ 'badji'
    ("dge", "je"),
    ("sch", "s"),
    ("tch", "s"),
    ("tsh", "s"),
    ("itj", "is"),  # Scandinavian tj for Russian ch in patronymics: 'iosifavitj' ~ 'iosifovich'
    ("eau", "o"),
    ("ch", "s"),
    ("sh", "s"),
    ("zh", "j"),
    ("dj", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("ie", "e"),
    ("au", "o"),
    ("ck", "k"),
    ("qu", "k"),
    ("ce", "se"),
    ("ci", "si"),
    ("cy", "sy"),
    ("q", "k"),
    ("c", "k"),
    ("x", "ks"),
    ("z", "s"),
]
_CLUSTER_RE = re.compile("|".join(re.escape(a) for a, _ in _CLUSTERS))
_CLUSTER_MAP = dict(_CLUSTERS)
_VOWELS = frozenset("aeiou")


_TO_STARS = str.maketrans(dict.fromkeys("aeiouyw", "*"))
_VOCALIC_Y = re.compile(r"(?<=.)y(?![aeiou])")


def _consonantal(token: str, keep_vowels: bool = False) -> str:
    """Clusters folded; vowels become '*' unless keep_vowels. A non-initial y/w is a vowel for
    the keys (Arabic script writes long vowels and the consonant alike: 'tyb' ~ 'tayeb'); with
    keep_vowels a vocalic y reads as i ('sergey' ~ 'sergei') and w as v."""
    folded = _CLUSTER_RE.sub(lambda m: _CLUSTER_MAP[m.group()], token)
    if not folded:
        return folded
    if keep_vowels:
        # Russian в renders both: 'Мвамба' -> 'mvamba' ~ 'mwamba'; a y not before a vowel is the vowel i
        return _VOCALIC_Y.sub("i", folded).replace("w", "v")
    # long vowel: Arabic و/ي transliterated as w/y, Russian -iy/-yy endings; an initial y/w is a consonant
    head = folded[0]
    return ("*" if head in _VOWELS else head) + folded[1:].translate(_TO_STARS)


def _squeeze(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=200_000)
def fold(token: str) -> str:
    """Spelling with transliteration clusters folded and doubles squeezed: 'khuseyni' -> 'husejni'
    style differences vanish ('khuseyni' and 'husseini' both give 'huseini')."""
    return _squeeze(_consonantal(token, keep_vowels=True))


@lru_cache(maxsize=200_000)
def consonant_key(token: str) -> str:
    """Consonant skeleton: 'mohammed', 'muhammad', 'mhmd' (Arabic script) -> 'mhmd'."""
    return _squeeze(_consonantal(token).replace("*", ""))


def unvocalised(token: str) -> bool:
    """True for tokens that read like a vowel-less transliteration (Arabic script: 'mhmd', 'hsyn')."""
    return len(token) >= 2 and not any(ch in _VOWELS for ch in token[1:-1])


_VOWEL_RUN = re.compile(r"[aeiouy]+")


def _pairs(text: str) -> frozenset[frozenset[str]]:
    return frozenset(frozenset(p.split("/")) for p in text.split())


# Vowel spellings that stand for one sound in transliterations ('deeb' ~ 'dib', 'shear' ~ 'shir', 'noor' ~ 'nur').
# English spellings respelt from Russian or Arabic script: 'sky' ~ 'skai', 'blue' ~ 'blyu'.
_SAME_SOUND = _pairs("i/ee i/ie i/ea i/y i/iy ee/ea u/oo u/ou o/oo ou/oo ai/ay ei/ey ai/ei a/aa ae/ai ai/y ue/yu")
# Short vowels that move around between transliterations of longer Arabic and Persian names ('daghmash' ~
# 'dughmush', 'rehman' ~ 'rahman', 'hawatmeh' ~ 'hawatma'); 'kabila' ~ 'kabali' (vowels swapped) stays apart.
# Belarusian and Ukrainian spellings write an unstressed o as a: 'rakhmanava' ~ 'rakhmanova', 'aleksin' ~ 'oleksin'.
# Russian я and е after a vowel or soft sign are written ia/ya and ie/ye: 'liashenka' ~ 'lyashenko'.
_SHORT_VOWELS = _SAME_SOUND | _pairs(
    "a/e e/i o/u a/u a/o e/ee e/ai e/ei e/ay e/ia e/ie o/ou a/ae iu/yu iou/yu io/yo ia/ya ie/ye"
)


@lru_cache(maxsize=200_000)
def loose_key(token: str) -> str:
    """Consonant skeleton without a final 'h' after a vowel ('hawatmeh' ~ 'hawatma', 'fatimah' ~ 'fatima')."""
    if len(token) > 3 and token.endswith("h") and token[-2] in "aeiou":
        token = token[:-1]
    return consonant_key(token)


def vowels_compatible(a: str, b: str) -> bool:
    """Same consonants (checked by the caller), vowels written differently but position by position alike: any
    short-vowel change in words of several syllables, only spellings of the same sound in one-syllable words
    ('minh' ~ 'manh' and 'ming' ~ 'meng' are different names)."""
    if a[0] != b[0] and not (a[0] in "aeiou" and b[0] in "aeiou"):
        return False
    trim = [t[:-1] if len(t) > 3 and t.endswith("h") and t[-2] in "aeiou" else t for t in (a, b)]
    for i in (0, 1):  # French spelling adds a mute final e: 'tiourine' ~ 'tyurin'
        if trim[i].endswith("e") and trim[i][-2] not in "aeiouy" and trim[1 - i][-1] not in "aeiouy":
            trim[i] = trim[i][:-1]
    va, vb = (_VOWEL_RUN.findall(t[1:] if t[0] in "yw" else t) for t in trim)  # initial y/w: consonants
    if len(va) != len(vb) or not va:
        return False
    # 'olga' ~ 'oleg': two consonants leave too little of a name to move its vowels around
    allowed = _SAME_SOUND if len(va) == 1 or len(loose_key(a)) < 3 else _SHORT_VOWELS
    return all(x == y or frozenset((x, y)) in allowed for x, y in zip(va, vb, strict=True))


# Romanisations of Chinese and Korean differ mostly in how initials are written: Wade-Giles 'Chang', 'Hsi',
# 'Tsai', 'Kuo' are pinyin 'Zhang', 'Xi', 'Cai', 'Guo'; McCune-Reischauer 'Pak', 'Kim', 'Cho' are 'Bak', 'Gim', 'Jo'.
_INITIALS = [
    ("tsz", "z"),
    ("hs", "s"),
    ("sh", "s"),
    ("zh", "j"),
    ("ch", "j"),
    ("tz", "z"),
    ("ts", "z"),
    ("x", "s"),
    ("q", "j"),
    ("c", "z"),
    ("k", "g"),
    ("p", "b"),
    ("t", "d"),
]
_INITIAL_RE = re.compile("|".join(a for a, _ in _INITIALS))
_INITIAL_MAP = dict(_INITIALS)
_FINALS = [("eu", "u"), ("ung", "ong"), ("ieh", "ie"), ("ih", "i"), ("uo", "o"), ("gwo", "go")]


@lru_cache(maxsize=200_000)
def romanised_key(token: str) -> str:
    """East Asian syllables with the romanisation-specific spellings of initials and finals folded:
    'chang' ~ 'zhang', 'hsifu' ~ 'xifu', 'kyu' ~ 'gyu', 'seung' ~ 'sung'."""
    key = _INITIAL_RE.sub(lambda m: _INITIAL_MAP[m.group()], token)
    for a, b in _FINALS:
        key = key.replace(a, b)
    return _squeeze(key)
