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
    ("sch", "s"),
    ("tch", "s"),
    ("tsh", "s"),
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


def _consonantal(token: str, keep_vowels: bool = False) -> str:
    """Clusters folded; vowels become '*' unless keep_vowels. A non-initial y/w is a vowel for
    the keys (Arabic script writes long vowels and the consonant alike: 'tyb' ~ 'tayeb'); with
    keep_vowels a vocalic y reads as i ('sergey' ~ 'sergei') and w as v."""
    folded = _CLUSTER_RE.sub(lambda m: _CLUSTER_MAP[m.group()], token)
    out = []
    for i, ch in enumerate(folded):
        if ch in "yw" and i > 0 and not (keep_vowels and i + 1 < len(folded) and folded[i + 1] in _VOWELS):
            # long vowel: Arabic و/ي transliterated as w/y, Russian -iy/-yy endings
            ch = ("i" if ch == "y" else "v") if keep_vowels else "*"
        elif ch in _VOWELS and not keep_vowels:
            ch = "*"
        elif ch == "w" and keep_vowels:
            ch = "v"  # Russian в renders both: 'Мвамба' -> 'mvamba' ~ 'mwamba'

        out.append(ch)
    return "".join(out)


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
