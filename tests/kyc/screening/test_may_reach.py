"""may_reach, blocking's shortcut past token_sim, must let through every word token_sim accepts."""

from __future__ import annotations

import csv
import random

import pytest

from services.kyc.screening.blocking import neighbour_keys
from services.kyc.screening.evaluate import DEV_PATHS, HELDOUT_PATHS
from services.kyc.screening.normalize import tokens
from services.kyc.screening.similarity import MIN_TOKEN_SIM, may_reach, token_sim
from services.kyc.screening.synthetic import synthetic_entries

# One pair per branch of token_sim that accepts: exact, typo, folded, given-name family, vowels, romanisation,
# a vowel more or less, German ch, -iyya, Baltic ending, Slavic h, Arabic article, two typos in a long word.
BRANCHES = [
    ("mwakabu", "mwakabu"),
    ("mwakabu", "mwakaub"),
    ("khuseyni", "husseini"),
    ("mohamed", "muhammad"),
    ("daghmash", "dughmush"),
    ("chang", "zhang"),
    ("emireits", "emirates"),
    ("tochtachunov", "tokhtakhunov"),
    ("hameih", "hamiah"),
    ("leontjevas", "leontiev"),
    ("hrodna", "grodno"),
    ("alnoor", "nour"),
    ("aerocaribbean", "aerocaribeam"),
]


@pytest.mark.parametrize(("a", "b"), BRANCHES)
def test_every_accepting_branch_gets_through(a: str, b: str) -> None:
    for x, y in ((a, b), (b, a)):
        assert token_sim(x, y)[0] >= MIN_TOKEN_SIM
        assert y in may_reach(x, [y, "zzzz"])


def _vocabulary() -> list[str]:
    words: set[str] = set()
    for path in (*DEV_PATHS, *HELDOUT_PATHS):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                words.update(tokens(row["subject_name"], row["subject_kind"]))
                words.update(tokens(row["list_name"], row["list_kind"]))
    for entry in synthetic_entries(4000, seed=7):
        words.update(tokens(entry.names[0], entry.kind))
    return sorted(w for w in words if w.isascii())


def test_no_word_token_sim_accepts_is_left_out() -> None:
    """The words blocking verifies (those sharing a neighbourhood key with the query) for 600 query words of the
    evaluation sets and of synthetic names: may_reach keeps every one token_sim scores at MIN_TOKEN_SIM or more."""
    vocabulary = _vocabulary()
    by_key: dict[str, set[str]] = {}
    for word in vocabulary:
        for key in neighbour_keys(word):
            by_key.setdefault(key, set()).add(word)
    compared = accepted = 0
    for query in random.Random(20261203).sample(vocabulary, 600):
        words = sorted(set().union(*(by_key.get(k, set()) for k in neighbour_keys(query))) | {query})
        kept = set(may_reach(query, words))
        for word in words:
            compared += 1
            if token_sim(query, word)[0] >= MIN_TOKEN_SIM:
                accepted += 1
                assert word in kept, (query, word, token_sim(query, word))
    assert accepted > 600 and compared > 10 * accepted  # the sample holds many near words and more different ones
