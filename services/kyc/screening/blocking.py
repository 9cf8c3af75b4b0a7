"""Candidate blocking: list-token vocabulary with phonetic and one-deletion neighbourhoods."""

from __future__ import annotations

from array import array

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .phonetic import consonant_key, romanised_key, unvocalised
from .similarity import GERMAN_CH_MIN, MIN_TOKEN_SIM, canonical_name, german_kh, may_reach, token_sim

PREFILTER_EDITS = 3  # every resemblance token_sim accepts (bar vowel-less skeletons) is this close
JOINED_PART = 4  # shortest word recognised as part of a word written together
CACHE_SIZE = 50_000  # query tokens whose neighbourhood is remembered (given names repeat a lot)


ROMANISED_MAX = 6  # syllable-length words are also keyed by their romanisation-folded spelling


def neighbour_keys(token: str) -> list[str]:
    """Consonant key plus its one-deletion variants (symmetric-deletion typo search), and for short words the
    romanisation-folded spelling ('chang' and 'zhang', 'hsi' and 'xi' share '~jang', '~si'), so a Wade-Giles
    spelling always reaches its pinyin twin; a common given name is also keyed by its spelling family, so 'Ihar'
    reaches 'Igor' and 'Uladzimir' 'Vladimir' though their consonants differ."""
    key = consonant_key(token)
    extra = [f"~{romanised_key(token)}"] if len(token) <= ROMANISED_MAX else []
    family = canonical_name(token)
    if family is not None:
        extra.append(f"={family}")
    if len(token) >= GERMAN_CH_MIN and "ch" in token:
        extra.append(consonant_key(german_kh(token)))  # 'tochtachunov' reaches 'tokhtakhunov'
    if not key:
        return extra
    if len(key) < 3:
        return [key, *extra]
    return [key, *{key[:i] + key[i + 1 :] for i in range(len(key))}, *extra]


class TokenIndex:
    """token -> postings of name ids; neighbourhood keys -> tokens (vocabulary level, so the typo
    machinery costs per distinct token, not per name)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.words: list[str] = []
        self.postings: list[array[int]] = []
        self._live = array("i")  # names containing each token that are still indexed
        self._neighbours: dict[str, str | list[str]] = {}
        self._bare: dict[str, list[str]] = {}  # consonant key -> vowel-less (Arabic-script) tokens
        self._cache: dict[tuple[str, bool], list[tuple[int, float]]] = {}

    def __len__(self) -> int:
        return len(self.words)

    def frequency(self, token: str) -> int:
        """How many indexed (not removed) names contain token."""
        tid = self._ids.get(token)
        return 0 if tid is None else self._live[tid]

    def discount(self, token: str) -> None:
        """A name containing token was removed (its postings stay behind as tombstones)."""
        tid = self._ids.get(token)
        if tid is not None:
            self._live[tid] -= 1

    def add(self, token: str, name_id: int) -> None:
        """Record that name_id contains token."""
        tid = self._ids.get(token)
        if tid is None:
            tid = self._new_token(token)
        self.postings[tid].append(name_id)
        self._live[tid] += 1

    def _new_token(self, token: str) -> int:
        tid = len(self.words)
        self._ids[token] = tid
        self.words.append(token)
        self.postings.append(array("i"))
        self._live.append(0)
        self._cache.clear()  # a new word may resemble a cached query token
        for key in neighbour_keys(token):
            # Most keys point at one word: keep the bare string until a second one arrives.
            current = self._neighbours.get(key)
            if current is None:
                self._neighbours[key] = token
            elif isinstance(current, str):
                self._neighbours[key] = [current, token]
            else:
                current.append(token)
        if unvocalised(token):
            self._bare.setdefault(consonant_key(token), []).append(token)
        return tid

    def written_apart(self, words: tuple[str, ...]) -> list[int]:
        """Vocabulary words that are two adjacent query words written as one ('yas air' / 'yasair') or the two halves
        of one query word written apart ('iransaffron' / 'iran saffron'): exact look-ups only, so a name written
        together is a candidate though its keys share nothing with either half."""
        ids = self._ids
        found = [ids[a + b] for a, b in zip(words, words[1:], strict=False) if a + b in ids]
        for word in words:
            for i in range(JOINED_PART, len(word) - JOINED_PART + 1):
                head, tail = word[:i], word[i:]
                if head in ids and tail in ids:
                    found += [ids[head], ids[tail]]
                    break
        return found

    def similar(self, token: str, vowelless: bool = False) -> list[tuple[int, float]]:
        """Vocabulary tokens resembling token (exact, spelling variant, skeleton, typo) with sims.
        vowelless: the query comes from a script without short vowels, so consonant skeletons
        decide; vowel-less vocabulary words are compared that way too."""
        if len(token) < 2:
            return []
        cached = self._cache.get((token, vowelless))
        if cached is not None:
            return cached
        candidates: set[str] = set()
        for key in neighbour_keys(token):
            found = self._neighbours.get(key)
            if isinstance(found, str):
                candidates.add(found)
            elif found:
                candidates.update(found)
        if not vowelless and len(candidates) > 8:
            close = process.extract(
                token, list(candidates), scorer=Levenshtein.distance, score_cutoff=PREFILTER_EDITS, limit=None
            )
            # a word that begins or ends with the query is further than the prefilter but may be the name written
            # as one word ('caribbean' in 'aerocaribbean'); a given name of the same family may be too ('yauhen')
            kept = {word for word, _, _ in close}
            kept.update(_containing(token, candidates))
            family = canonical_name(token)
            if family is not None:
                kept.update(w for w in candidates if canonical_name(w) == family)
            candidates = kept
        if token in self._ids:
            candidates.add(token)
        bare = set(self._bare.get(consonant_key(token), ()))
        result = self._verified(token, candidates | bare, vowelless, bare)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[(token, vowelless)] = result
        return result

    def _verified(self, token: str, words: set[str], vowelless: bool, bare: set[str]) -> list[tuple[int, float]]:
        ids = self._ids
        result = []
        # Most words are different words: token_sim only for those may_reach lets through (all of a few, and of a
        # vowel-less query, which may_reach does not cover).
        if vowelless or len(words) <= 8:
            compared = words
        else:
            compared = set(may_reach(token, [w for w in words if w not in bare])) | bare
        contained = set(_containing(token, words))
        for word in words:
            sim = token_sim(token, word, vowelless or word in bare)[0] if word in compared else 0.0
            if sim >= MIN_TOKEN_SIM:
                result.append((ids[word], sim))
            elif word in contained:
                result.append((ids[word], MIN_TOKEN_SIM))  # one word of a name written as two: scored later
        return result


def _containing(token: str, words: set[str]) -> list[str]:
    """The words of words that one word of a name written as two may be ('energooil' and 'energo', 'aerocaribbean'
    and 'caribbean'): longer words that begin or end with token, and token's own beginnings and ends that are words,
    the shorter at least JOINED_PART letters and two fewer than the longer; without a call per word (words holds
    thousands of neighbours of a short consonant key)."""
    size = len(token)
    if size < JOINED_PART:
        return []
    longer = size + 2
    found = [w for w in words if len(w) >= longer and token in w and (w.startswith(token) or w.endswith(token))]
    for k in range(JOINED_PART, size - 1):  # len(w) <= size - 2
        head, tail = token[:k], token[-k:]
        if head in words:
            found.append(head)
        if tail in words:
            found.append(tail)
    return found
