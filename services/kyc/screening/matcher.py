"""Screening index: blocking over list tokens, then scoring of the few candidates it yields."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from .blocking import TokenIndex
from .explain import explain
from .fields import country_code, identifier, parse_date
from .model import ListEntry
from .normalize import NameAnalysis, analyze
from .secondary import adjustments, max_bonus
from .similarity import MIN_TOKEN_SIM, NameScore, name_score

__all__ = ["DEFAULT_THRESHOLD", "Match", "ScreeningIndex", "Subject", "changed_entries"]

DEFAULT_THRESHOLD = 0.85
CANDIDATES_PER_NAME = 200  # names fully scored per subject name
GENERATION_BUDGET = 60_000  # postings that may seed candidates; beyond, tokens only re-rank
LENGTH_PENALTY = 0.35  # pre-ranking: prefer list names as long as the subject's
RARITY_MIN_NAMES = 1000  # below this many names, word frequencies say nothing about a list
RARE_SHARE = 0.001  # words in at most 0.1 % of the names weigh fully; each tenfold more costs RARITY_STEP
RARITY_STEP = 0.2
RARITY_FLOOR = 0.5


@dataclass
class Subject:
    """A party to screen (a mine actor, trader, company...)."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: str = "person"
    birth_date: str | None = None
    countries: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A list entry resembling the subject, with the reasons for the score."""

    entry_id: str
    score: float
    matched_name: str
    subject_name: str
    explanation: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Facts:
    kind: str
    birth_date: str | None
    countries: tuple[str, ...]
    identifiers: tuple[str, ...]


def changed_entries(old: dict[str, str], new: Iterable[ListEntry]) -> tuple[list[ListEntry], list[str]]:
    """Given the previous snapshot's {entry_id: fingerprint}: (added or changed entries, removed ids)."""
    new = list(new)
    current = {e.entry_id for e in new}
    changed = [e for e in new if old.get(e.entry_id) != e.fingerprint]
    return changed, sorted(set(old) - current)


class ScreeningIndex:
    """In-memory index of list names; add/remove keep it in step with list snapshots."""

    def __init__(self, entries: Iterable[ListEntry] = ()) -> None:
        self._entries: list[ListEntry | None] = []
        self._slot: dict[str, int] = {}
        self._name_entry = array("i")
        self._name_pos = array("H")
        self._name_len = array("B")
        self._name_vowelless = array("B")  # 1 when written in a script without short vowels
        self._entry_first_name = array("i")
        self._entry_name_count = array("H")
        self._name_tokens: list[str] = []
        self._tokens = TokenIndex()
        self._by_identifier: dict[str, list[int]] = {}
        self._live_names = 0
        for entry in entries:
            self.add(entry)

    @classmethod
    def build(cls, entries: Iterable[ListEntry]) -> ScreeningIndex:
        return cls(entries)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._slot

    def stats(self) -> str:
        """Sizes, for logs and benchmarks."""
        dead = len(self._name_tokens) - self._live_names
        return (
            f"{len(self._slot):,} entries, {self._live_names:,} names, "
            f"{len(self._tokens):,} distinct tokens, {dead:,} removed names still in postings"
        )

    def compacted(self) -> ScreeningIndex:
        """A fresh index of the live entries, dropping the tombstones left by remove()."""
        return ScreeningIndex(e for e in self._entries if e is not None)

    def snapshot(self) -> dict[str, str]:
        """{entry_id: fingerprint} of the indexed entries, for changed_entries next time."""
        return {e.entry_id: e.fingerprint for e in self._entries if e is not None}

    def add(self, entry: ListEntry) -> None:
        """Index an entry; an entry with the same id is replaced."""
        if entry.entry_id in self._slot:
            self.remove(entry.entry_id)
        slot = len(self._entries)
        self._entries.append(entry)
        self._slot[entry.entry_id] = slot
        self._entry_first_name.append(len(self._name_tokens))
        for pos, name in enumerate(entry.names[:65535]):
            analysis = analyze.__wrapped__(name, entry.kind)  # no caching: a million one-offs
            words = analysis.tokens
            if not words:
                continue
            name_id = len(self._name_tokens)
            self._name_entry.append(slot)
            self._name_pos.append(pos)
            self._name_len.append(min(len(words), 255))
            self._name_vowelless.append(analysis.script == "arabic")
            self._name_tokens.append(" ".join(words))
            self._live_names += 1
            for word in set(words):
                self._tokens.add(word, name_id)
        self._entry_name_count.append(len(self._name_tokens) - self._entry_first_name[slot])
        for ident in {identifier(i) for i in entry.identifiers} - {""}:
            self._by_identifier.setdefault(ident, []).append(slot)

    def remove(self, entry_id: str) -> bool:
        """Drop an entry; its postings stay behind as tombstones skipped at query time."""
        slot = self._slot.pop(entry_id, None)
        if slot is None:
            return False
        self._entries[slot] = None
        self._live_names -= self._entry_name_count[slot]
        for name_id in self._names_of_slot(slot):
            for word in set(self._name_tokens[name_id].split()):
                self._tokens.discount(word)
        return True

    def apply(self, changed: Iterable[ListEntry], removed: Iterable[str]) -> None:
        """Apply the output of changed_entries."""
        for entry_id in removed:
            self.remove(entry_id)
        for entry in changed:
            self.add(entry)

    def screen(self, subject: Subject, *, threshold: float = DEFAULT_THRESHOLD, limit: int = 20) -> list[Match]:
        """Entries whose score reaches threshold, best first, at most limit of them."""
        facts = _facts(subject)
        variants = [analyze(n, subject.kind) for n in (subject.name, *subject.aliases) if n.strip()]
        variants = [v for v in variants if v.tokens]
        best: dict[int, tuple[float, NameAnalysis, int, NameScore]] = {}
        rarities: dict[str, float] = {}

        def rarity(token: str) -> float:
            found = rarities.get(token)
            if found is None:
                found = rarities[token] = self._rarity(token)
            return found

        for name_id in self._candidate_names(variants, facts.identifiers):
            slot = self._name_entry[name_id]
            entry = self._entries[slot]
            if entry is None:
                continue
            listed = self._name_tokens[name_id].split()
            for variant in variants:
                vowelless = variant.script == "arabic" or bool(self._name_vowelless[name_id])
                scored = name_score(
                    list(variant.tokens),
                    listed,
                    subject_org=subject.kind != "person",
                    listed_org=entry.kind != "person",
                    vowelless=vowelless,
                    rarity=rarity,
                )
                if slot not in best or scored.score > best[slot][0]:
                    best[slot] = (scored.score, variant, name_id, scored)
        matches = [
            m
            for slot, found in best.items()
            if (m := self._match(subject, facts, self._entries[slot], found, threshold))
        ]
        matches.sort(key=lambda m: (-m.score, m.entry_id))
        return matches[:limit]

    def _rarity(self, token: str) -> float:
        """1.0 for a word few list names share, down to RARITY_FLOOR for the commonest given names and surnames
        ('mohamed', 'jean', 'nguyen'): the list itself says which words identify little."""
        total = self._live_names
        if total < RARITY_MIN_NAMES:
            return 1.0
        share = self._tokens.frequency(token) / total
        if share <= RARE_SHARE:
            return 1.0
        return max(RARITY_FLOOR, 1.0 - RARITY_STEP * math.log10(share / RARE_SHARE))

    def _match(
        self,
        subject: Subject,
        facts: _Facts,
        entry: ListEntry | None,
        found: tuple[float, NameAnalysis, int, NameScore],
        threshold: float,
    ) -> Match | None:
        name_value, variant, name_id, scored = found
        if entry is None or name_value + max_bonus(facts) < threshold:
            return None
        adjust = adjustments(facts, entry, facts.identifiers)
        score = min(1.0, max(0.0, name_value + sum(delta for delta, _ in adjust)))
        if score < threshold:
            return None
        listed_name = entry.names[self._name_pos[name_id]]
        reasons = explain(variant, analyze(listed_name, entry.kind), scored, adjust)
        subject_name = next(n for n in (subject.name, *subject.aliases) if analyze(n, subject.kind) == variant)
        return Match(entry.entry_id, round(score, 4), listed_name, subject_name, reasons)

    def _candidate_names(self, variants: list[NameAnalysis], identifiers: tuple[str, ...]) -> set[int]:
        names: set[int] = set()
        for variant in variants:
            names.update(self._block(variant.tokens, variant.script == "arabic"))
        for ident in identifiers:
            for slot in self._by_identifier.get(ident, ()):
                names.update(self._names_of(slot))
        return names

    def _names_of_slot(self, slot: int) -> range:
        first = self._entry_first_name[slot]
        return range(first, first + self._entry_name_count[slot])

    def _names_of(self, slot: int) -> range:
        first = self._entry_first_name[slot]
        return range(first, first + self._entry_name_count[slot]) if self._entries[slot] else range(0)

    def _block(self, words: tuple[str, ...], vowelless: bool) -> list[int]:
        """Top candidate names for one subject name: idf-weighted token hits, rarest tokens seed,
        list names much longer or shorter than the subject's start with a handicap."""
        postings = self._tokens.postings
        total = max(self._live_names, 1)
        groups = []
        for word in set(words):
            similar = self._tokens.similar(word, vowelless)
            if similar:
                weighted = [(t, sim * math.log(1.0 + total / len(postings[t]))) for t, sim in similar]
                groups.append((sum(len(postings[t]) for t, _ in similar), weighted))
        for tid in self._tokens.written_apart(words):
            groups.append((len(postings[tid]), [(tid, MIN_TOKEN_SIM * math.log(1.0 + total / len(postings[tid])))]))
        if not groups:
            return []
        groups.sort(key=itemgetter(0))
        per_token = sum(max(w for _, w in g) for _, g in groups) / len(words) * LENGTH_PENALTY
        handicap = np.array([-per_token * abs(n - len(words)) for n in range(256)])
        # Seeding tokens are a prefix of groups (sizes ascend and spent only grows), so: every posting of the seeds
        # in order, then the re-ranking tokens. In numpy (a million-name list has tokens with 10^5 postings), with
        # the arithmetic of a dict filled posting by posting: a name starts at its length handicap and gets each
        # token's weight added in token order (a name holds a token once, so one token's postings are distinct).
        seeds: list[tuple[npt.NDArray[np.int32], float]] = []
        rerank: list[tuple[npt.NDArray[np.int32], float]] = []
        spent = 0
        for rank, (size, weighted) in enumerate(groups):
            seed = rank == 0 or spent + size <= GENERATION_BUDGET
            spent += size if seed else 0
            (seeds if seed else rerank).extend((_copy(postings[tid], np.int32), w) for tid, w in weighted)
        seeded = np.concatenate([names for names, _ in seeds])
        found, first, where = np.unique(seeded, return_index=True, return_inverse=True)
        scores = handicap[_copy(self._name_len, np.uint8)[found]]
        offset = 0
        for names, weight in seeds:
            scores[where[offset : offset + len(names)]] += weight
            offset += len(names)
        for names, weight in rerank:
            at = np.searchsorted(found, names)
            at[at == len(found)] = 0
            scores[at[found[at] == names]] += weight
        inserted = np.argsort(first, kind="stable")  # the order a dict would hold them in: first posting first
        found, scores = found[inserted], scores[inserted]
        if len(found) <= CANDIDATES_PER_NAME:
            return cast(list[int], found.tolist())
        # heapq.nlargest on that dict: highest score first, ties in insertion order
        best = np.argsort(-scores, kind="stable")[:CANDIDATES_PER_NAME]
        return cast(list[int], found[best].tolist())


def _copy(values: array[int], dtype: type[np.int32] | type[np.uint8]) -> npt.NDArray[Any]:
    """A numpy copy of an array made under the GIL by tobytes(): a view, or numpy's own copy (which may release the
    GIL), would export the array's buffer, and an add() in another thread could not grow it meanwhile."""
    return np.frombuffer(values.tobytes(), dtype=dtype)


def _facts(subject: Subject) -> _Facts:
    try:
        born = parse_date(subject.birth_date) if subject.birth_date else None
    except ValueError:
        born = None  # an unreadable date on the subject side is simply not evidence
    return _Facts(
        subject.kind,
        born,
        tuple(country_code(c) for c in subject.countries if c.strip()),
        tuple(i for i in (identifier(v) for v in subject.identifiers) if i),
    )
