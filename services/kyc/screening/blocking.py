"""Candidate blocking: list-token vocabulary with phonetic and one-deletion neighbourhoods."""
from __future__ import annotations

from array import array

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .phonetic import consonant_key, unvocalised
from .similarity import MIN_TOKEN_SIM, token_sim

PREFILTER_EDITS = 3



def neighbour_keys(token: str) -> list[str]:
    """Consonant key plus its one-deletion variants (symmetric-deletion typo search)."""
    key = consonant_key(token)
    if not key:
        return []
    if len(key) < 3:
        return [key]
    return [key, *{key[:i] + key[i + 1:] for i in range(len(key))}]


class TokenIndex:
    """token -> postings of name ids; neighbourhood keys -> token ids (vocabulary level, so the
    typo machinery costs per distinct token, not per name)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.words: list[str] = []
        self.postings: list[array] = []
        self._neighbours: dict[str, int | array] = {}
        self._bare = bytearray()  # 1 for vowel-less tokens (likely from Arabic script)

    def __len__(self) -> int:
        return len(self.words)

    def add(self, token: str, name_id: int) -> None:
        """Record that name_id contains token."""
        tid = self._ids.get(token)
        if tid is None:
            tid = len(self.words)
            self._ids[token] = tid
            self.words.append(token)
            self.postings.append(array("i"))
            self._bare.append(unvocalised(token))
            for key in neighbour_keys(token):
                self._link(key, tid)
        self.postings[tid].append(name_id)

    def token_id(self, token: str) -> int | None:
        return self._ids.get(token)

    def _link(self, key: str, tid: int) -> None:
        # Most keys point at one token: keep a bare int until a second one arrives.
        current = self._neighbours.get(key)
        if current is None:
            self._neighbours[key] = tid
        elif isinstance(current, int):
            self._neighbours[key] = array("i", (current, tid))
        else:
            current.append(tid)

    def similar(self, token: str, vowelless: bool = False) -> list[tuple[int, float]]:
        """Vocabulary tokens resembling token (exact, spelling variant, skeleton, typo) with sims.
        Vowel-less vocabulary tokens ('mhmd') may come from Arabic-script names, so skeleton
        equality is allowed for them here; the final scoring knows the scripts for sure."""
        if len(token) < 2:
            return []
        found: set[int] = set()
        for key in neighbour_keys(token):
            ids = self._neighbours.get(key)
            if ids is None:
                continue
            if isinstance(ids, int):
                found.add(ids)
            else:
                found.update(ids)
        exact = self._ids.get(token)
        if exact is not None:
            found.add(exact)
        words, bare = self.words, self._bare
        candidates = list(found)
        if not vowelless and len(candidates) > 8:
            # C-speed pre-filter: every resemblance token_sim accepts is within 3 edits, except
            # skeleton matches against vowel-less tokens, which are kept aside.
            close = process.extract(token, [words[t] for t in candidates], scorer=Levenshtein.distance,
                                    score_cutoff=PREFILTER_EDITS, limit=None)
            candidates = [candidates[i] for _, _, i in close] + [t for t in candidates if bare[t]]
        result = []
        for tid in set(candidates):
            sim = token_sim(token, words[tid], vowelless or bool(bare[tid]))[0]
            if sim >= MIN_TOKEN_SIM:
                result.append((tid, sim))
        return result
