"""Name normalisation: transliteration, legal forms, particles and titles, Arabic compounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .phonetic import consonant_key, fold, unvocalised
from .wordlists import (
    ABD_PREFIXES,
    ABD_WHOLE_WORDS,
    FIRST_POSITION_NAMES,
    GENERIC_WORDS,
    LEGAL_FORMS,
    LEGAL_PHRASES,
    STOP_WORDS,
    SYNONYMS,
    TITLES,
)

__all__ = [
    "NameAnalysis",
    "analyze",
    "fold",
    "is_generic",
    "normalized",
    "phonetic_key",
    "script_of",
    "tokens",
]

phonetic_key = consonant_key

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_ARABIC_LETTER = "[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]"  # with the Persian letters
# The article ال glued to the next word; anyascii would turn 'الحسيني' into 'lhsyny'.
_ARABIC_ARTICLE = re.compile(f"(?<!{_ARABIC_LETTER})\u0627\u0644(?={_ARABIC_LETTER}{{2}})")
_ARABIC_LETTERS_AS_LATIN = str.maketrans({"\u0625": "i", "\u0623": "a", "\u0622": "a", "\u0638": "z"})
# 'عبدالرحمن' is 'Abd al-Rahman' written as one word: split it so the article goes too.
_ARABIC_ABD = re.compile(f"(?<!{_ARABIC_LETTER})\u0639\u0628\u062f(?=\u0627\u0644{_ARABIC_LETTER})")
_ARABIC_MARKS = re.compile(r"[\u064B-\u065F\u0670\u0640]")  # harakat and tatweel
_DOTTED = re.compile(r"\b[a-z](?:\.[a-z])+\.?(?![a-z])")
# French elision, looked for before transliteration: a Cyrillic soft sign also becomes "'".
_ELISION = re.compile(r"\b[dDlL]['\u2019](?=\w)")
_NON_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_INDUSTRY_SPELLINGS = sorted(w for w in GENERIC_WORDS | set(SYNONYMS) if len(w) >= 5)
_PHRASES_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in sorted(LEGAL_PHRASES, key=len, reverse=True):
    _PHRASES_BY_FIRST.setdefault(_phrase[0], []).append(_phrase)


@dataclass(frozen=True, slots=True)
class NameAnalysis:
    """Matching tokens of a name plus what was set aside, for explanations."""

    tokens: tuple[str, ...]
    legal_forms: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    script: str = "latin"


def script_of(name: str) -> str:
    """'arabic', 'cyrillic', 'latin' or 'other' (first non-Latin script seen wins)."""
    if _ARABIC.search(name):
        return "arabic"
    if re.search(r"[\u0400-\u04FF]", name):
        return "cyrillic"
    return "other" if _NON_LATIN.search(name) else "latin"


def _ascii(name: str) -> str:
    if _ARABIC.search(name):
        name = _ARABIC_ABD.sub("\u0639\u0628\u062f ", name)
        # Hamza on alif is a vowel in Latin ('إياد' Iyad, 'أحمد' Ahmad); zah is written z ('نظمي' Nazmi).
        name = name.translate(_ARABIC_LETTERS_AS_LATIN)
        name = _ARABIC_MARKS.sub("", _ARABIC_ARTICLE.sub("", name)).replace("\u0629", "a")
        # A word-initial ayn is written with a vowel in Latin: 'علي' -> 'aly' ~ 'ali'.
        name = re.sub(f"(?<!{_ARABIC_LETTER})\u0639", "a", name)
    name = _ELISION.sub("", name) if "'" in name or "\u2019" in name else name
    text = name.casefold() if name.isascii() else anyascii(name).casefold()
    if "." in text:
        text = _DOTTED.sub(lambda m: _undot(m.group()), text)
    return text.replace("'", "").replace("`", "")


def _undot(acronym: str) -> str:
    letters = acronym.replace(".", "")
    # 'S.A.R.L.' is a legal form; 'J.P.' are two initials.
    return f" {letters} " if letters in LEGAL_FORMS else " " + " ".join(letters) + " "


_ABD_SUN = frozenset(p for p in ABD_PREFIXES if p.startswith("abdu") and p[4:] in ("r", "s", "sh", "z", "n", "t"))


def _split_abd(token: str) -> list[str]:
    if not token.startswith("abd"):
        return [token]
    if token in ABD_WHOLE_WORDS:
        return list(ABD_WHOLE_WORDS[token])
    for prefix in ABD_PREFIXES:
        if token.startswith(prefix):
            rest = token[len(prefix) :]
            if not rest:
                return ["abd"]
            if len(rest) < 3:
                return [token]
            if prefix in _ABD_SUN:
                # 'abdu' + the article assimilated to a sun letter: 'abdurrahman' is 'abd ar-rahman'; written with
                # the letter once ('abdurahman', 'abdusalam') the name keeps it ('rahman', 'salam'). A consonant
                # after the prefix is the name's own ('abdursalam', South Asian 'Abdur' for any 'Abd al-').
                return ["abd", prefix[4:] + rest if rest[0] in "aeiou" else rest]
            if prefix != "abd":
                return ["abd", rest]
            if rest[:2] in ("al", "el", "ul", "ou"):
                return ["abd", rest[2:]]
            if unvocalised(token):  # Arabic script 'عبدالله' -> 'abdllh'
                return ["abd", rest]
    return [token]


def _strip_phrases(words: list[str]) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    i = 0
    while i < len(words):
        for phrase in _PHRASES_BY_FIRST.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                removed.append(" ".join(phrase))
                del words[i : i + len(phrase)]
                break
        else:
            i += 1
    return words, removed


@lru_cache(maxsize=65_536)
def analyze(name: str, kind: str | None = None) -> NameAnalysis:
    """Tokens for matching; kind 'person' keeps legal-form words, other kinds drop titles."""
    raw = _NON_ALNUM.sub(" ", _ascii(name)).split()
    words = [t for w in raw for t in _split_abd(w)]
    legal: list[str] = []
    if kind != "person":
        words, legal = _strip_phrases(words)
    kept: list[str] = []
    dropped: list[str] = []
    for i, word in enumerate(words):
        if kind != "person" and word in LEGAL_FORMS:
            legal.append(word)
        elif _droppable(word, i, kind, len(words)):
            dropped.append(word)
        else:
            kept.append(_industry_word(word) if kind != "person" else word)
    if not kept:  # a name made only of particles or legal words is still a name
        kept, legal, dropped = [SYNONYMS.get(w, w) for w in raw], [], []
    return NameAnalysis(tuple(kept), tuple(legal), tuple(dropped), script_of(name))


def _droppable(word: str, position: int, kind: str | None, count: int) -> bool:
    """Particles anywhere but a leading 'Ben'; titles in person names (or unknown long ones)."""
    if word in STOP_WORDS:
        return not (position == 0 and word in FIRST_POSITION_NAMES)
    return word in TITLES and (kind == "person" or (kind is None and count > 2))


@lru_cache(maxsize=131_072)
def _industry_word(word: str) -> str:
    """Canonical industry word, tolerating swapped letters ('minearls' -> 'mineral'); other edits
    would turn names into industry words ('golding' is not 'holding')."""
    word = SYNONYMS.get(word, word)
    if len(word) < 6 or word in GENERIC_WORDS:
        return word
    near = process.extractOne(word, _INDUSTRY_SPELLINGS, scorer=OSA.distance, score_cutoff=1)
    if near is None or sorted(near[0]) != sorted(word):
        return word
    return SYNONYMS.get(near[0], near[0])


def tokens(name: str, kind: str | None = None) -> list[str]:
    """Matching tokens: ASCII, casefolded, without legal forms, particles or titles."""
    return list(analyze(name, kind).tokens)


def normalized(name: str, kind: str | None = None) -> str:
    """Tokens joined by single spaces."""
    return " ".join(analyze(name, kind).tokens)


def is_generic(token: str) -> bool:
    """Industry words that should weigh little in organisation names."""
    return token in GENERIC_WORDS
