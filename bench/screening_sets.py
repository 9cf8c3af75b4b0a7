"""Evaluation sets for the screening engine from names written by others: the UN and OFAC lists' own aliases.

Two steps, both deterministic:

    python -m bench.screening_sets extract --un consolidated.xml --sdn sdn.csv --alt alt.csv
        list files -> services/kyc/screening/eval/list_aliases.csv (one row per recorded name of an entity)
    python -m bench.screening_sets pairs
        list_aliases.csv -> un_ofac_dev.csv and un_ofac_heldout.csv (labelled pairs, split by entity)

Positives pair an entity's primary name (or, when the primary is not in the excerpt, its first recorded alias) with
each other name the list records for it that is a written variant of that name; negatives pair different entities of
the same list whose names look alike. Neither step uses the screening engine: the variant test below uses anyascii
and jellyfish only, so the sets are not shaped by the matcher they measure.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as ElementTree
import jellyfish
from anyascii import anyascii

from services.kyc.screening.fields import country_code, parse_date

EVAL = Path(__file__).resolve().parent.parent / "services" / "kyc" / "screening" / "eval"
ALIASES = EVAL / "list_aliases.csv"
DEV = EVAL / "un_ofac_dev.csv"
HELDOUT = EVAL / "un_ofac_heldout.csv"
SPLIT_SEED = 20261207
MAX_ORG_NAMES = 12  # organisations with more recorded names list unrelated front names, not spellings
MAX_VARIANTS = 4  # per entity, so one entity with 29 spellings does not dominate
NEGATIVES_PER_ENTITY = 10
ALIAS_FIELDS = ["source", "entity_id", "kind", "role", "name", "birth_date", "country"]
PAIR_FIELDS = [
    "subject_name",
    "subject_kind",
    "subject_birth_date",
    "subject_country",
    "list_name",
    "list_kind",
    "list_birth_date",
    "list_country",
    "is_match",
    "case",
    "entities",
]
# Words that say what a name is, not whose it is; left out when deciding whether two names are variants.
_NEUTRAL = frozenset(
    "al el ul ud de del la le du da di of the and bin ibn ben bint ould abu abou umm "
    "dr haji hajji sheikh shaikh mullah mr u daw ma "
    "ltd llc co sa inc limited company corporation corp jsc ojsc cjsc pjsc oao zao ooo pao ao gmbh ag plc sarl ltda "
    "doo bhd sdn pvt tov taa zat lp est group groupe grupo bank banque trading trade industry industries industrial "
    "international general enterprise enterprises services holding holdings".split()
)


@dataclass
class Entity:
    """One listed party and the names the list records for it."""

    source: str
    entity_id: str
    kind: str
    birth_date: str = ""
    country: str = ""
    names: list[tuple[str, str]] = field(default_factory=list)  # (role, name)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.entity_id}"


# ---------------------------------------------------------------- extract: list files -> list_aliases.csv


def _text(node: Element | None) -> str:
    return " ".join((node.text or "").split()) if node is not None else ""


def un_entities(data: bytes) -> Iterator[Entity]:
    """UN Security Council consolidated list XML: individuals and entities with their aliases."""
    root = ElementTree.fromstring(data)
    for tag, kind in (("INDIVIDUAL", "person"), ("ENTITY", "organization")):
        for node in root.iter(tag):
            parts = [_text(node.find(p)) for p in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
            entity = Entity("un", _text(node.find("DATAID")), kind)
            entity.names.append(("primary", " ".join(p for p in parts if p)))
            if script := _text(node.find("NAME_ORIGINAL_SCRIPT")):
                entity.names.append(("original_script", script))
            for alias in node.iter(f"{tag}_ALIAS"):
                name, quality = _text(alias.find("ALIAS_NAME")), _text(alias.find("QUALITY")).casefold()
                if name:
                    role = {"good": "good", "low": "low", "f.k.a.": "fka"}.get(quality, "aka")
                    entity.names.append((role, name))
            for born in node.iter("INDIVIDUAL_DATE_OF_BIRTH"):
                value = _text(born.find("DATE")) or _text(born.find("YEAR"))
                if value and not entity.birth_date:
                    entity.birth_date = parse_date(value)
            nationality = node.find("NATIONALITY/VALUE")
            entity.country = country_code(_text(nationality)) if _text(nationality) else ""
            yield entity


def ofac_entities(sdn: str, alt: str, ranges: Sequence[tuple[int, int]] = ()) -> Iterator[Entity]:
    """OFAC SDN CSV pair: sdn.csv (primary names, type, remarks with DOB) and alt.csv (a.k.a./f.k.a.)."""
    aliases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in csv.reader(alt.splitlines()):
        if len(row) >= 4 and row[3].strip() != "-0-":
            aliases[row[0].strip()].append((row[2].strip().casefold(), row[3].strip()))
    for row in csv.reader(sdn.splitlines()):
        if len(row) < 12 or not row[0].strip().isdigit():
            continue
        number = int(row[0])
        if ranges and not any(lo <= number <= hi for lo, hi in ranges):
            continue
        kind = {"individual": "person", "-0-": "organization"}.get(row[2].strip())
        if kind is None:  # vessels and aircraft
            continue
        entity = Entity("ofac", row[0].strip(), kind, names=[("primary", row[1].strip())])
        entity.names += aliases.get(row[0].strip(), [])
        if m := re.search(r"\bDOB (\d{1,2} [A-Z][a-z]{2} \d{4}|[A-Z][a-z]{2} \d{4}|\d{4})", row[11]):
            entity.birth_date = parse_date(m[1])
        yield entity


def write_aliases(entities: Iterable[Entity], path: Path = ALIASES) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ALIAS_FIELDS)
        for e in entities:
            if e.kind == "organization" and len([r for r, _ in e.names if r != "low"]) > MAX_ORG_NAMES:
                continue
            for role, name in e.names:
                writer.writerow([e.source, e.entity_id, e.kind, role, name, e.birth_date, e.country])
                count += 1
    return count


def read_entities(path: Path = ALIASES) -> list[Entity]:
    entities: dict[str, Entity] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = f"{row['source']}:{row['entity_id']}"
            entity = entities.setdefault(
                key, Entity(row["source"], row["entity_id"], row["kind"], row["birth_date"], row["country"])
            )
            entity.names.append((row["role"], row["name"]))
    return list(entities.values())


# ---------------------------------------------------------------- pairs: what counts as a variant, what looks alike


def core_tokens(name: str) -> list[str]:
    """ASCII lower-case tokens without apostrophes, single letters and the neutral words above."""
    text = re.sub(r"['\u2018\u2019`\u02bc]", "", anyascii(name).casefold())
    return [t for t in re.split(r"[^a-z0-9]+", text) if len(t) > 1 and t not in _NEUTRAL]


def _corresponds(a: str, b: str) -> bool:
    if a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a))):
        return True
    return jellyfish.jaro_winkler_similarity(a, b) >= 0.80 or jellyfish.metaphone(a) == jellyfish.metaphone(b) != ""


def _covered(shorter: list[str], longer: list[str]) -> int:
    free = list(longer)
    hits = 0
    for token in shorter:
        match = next((t for t in free if _corresponds(token, t)), None)
        if match is not None:
            free.remove(match)
            hits += 1
    return hits


def is_variant(a: str, b: str) -> bool:
    """The two names spell the same name: every token of the shorter one and at least half of the longer one's find
    a counterpart (Jaro-Winkler >= 0.80, the same Metaphone key, or a prefix), or the names written without spaces
    agree (Jaro-Winkler >= 0.92). A recorded alias that fails is a different name: a nickname, a translation, an
    acronym, another surname."""
    ta, tb = core_tokens(a), core_tokens(b)
    if not ta or not tb:
        return False
    if jellyfish.jaro_winkler_similarity("".join(sorted(ta)), "".join(sorted(tb))) >= 0.92:
        return True
    shorter, longer = sorted((ta, tb), key=len)
    hits = _covered(shorter, longer)
    return hits == len(shorter) and hits / len(longer) >= 0.5


def resemblance(a: str, b: str) -> float:
    """How alike two names of different entities look: shared (near-identical) tokens, then spelling."""
    ta, tb = core_tokens(a), core_tokens(b)
    if not ta or not tb:
        return 0.0
    shared = sum(1 for t in ta if any(jellyfish.jaro_winkler_similarity(t, u) >= 0.90 for u in tb))
    whole = jellyfish.jaro_winkler_similarity(" ".join(ta), " ".join(tb))
    return shared + whole if shared or whole >= 0.85 else 0.0


def _anchor(entity: Entity) -> str:
    primary = [n for r, n in entity.names if r == "primary"]
    return primary[0] if primary else next(n for r, n in entity.names if r != "low")


def _row(
    subject: Entity, subject_name: str, listed: Entity, listed_name: str, match: bool, case: str
) -> dict[str, str]:
    return {
        "subject_name": subject_name,
        "subject_kind": subject.kind,
        "subject_birth_date": subject.birth_date,
        "subject_country": subject.country,
        "list_name": listed_name,
        "list_kind": listed.kind,
        "list_birth_date": listed.birth_date,
        "list_country": listed.country,
        "is_match": "1" if match else "0",
        "case": case,
        "entities": subject.key if match else f"{subject.key} vs {listed.key}",
    }


def positives(entity: Entity) -> list[dict[str, str]]:
    anchor = _anchor(entity)
    rows: list[dict[str, str]] = []
    seen = {anchor.casefold()}
    for role, name in entity.names:
        if role == "low" or name.casefold() in seen or len(rows) >= 2 * MAX_VARIANTS:
            continue
        seen.add(name.casefold())
        if role == "original_script":
            if entity.kind != "person":
                continue  # an organisation's name in its own script is a translation, not a spelling
            case = "original_script"
        elif is_variant(anchor, name):
            case = f"alias_{entity.kind}"
        else:
            continue  # a different name (nickname, translation, acronym): not a spelling to be found
        rows.append(_row(entity, name, entity, anchor, True, case))
        rows.append(_row(entity, anchor, entity, name, True, case))
    return rows


def negatives(entities: list[Entity]) -> list[dict[str, str]]:
    """For each entity, the most alike other entities of the same kind whose names are not variants of its own."""
    rows: list[dict[str, str]] = []
    for subject in entities:
        name = _anchor(subject)
        scored = []
        for other in entities:
            if other is subject or other.kind != subject.kind:
                continue
            names = [n for r, n in other.names if r not in ("low", "original_script")]
            if any(is_variant(name, n) for n in names):
                continue  # same written name under two entries: no name matcher can tell them apart
            best = max(names, key=lambda n: resemblance(name, n))
            if (score := resemblance(name, best)) > 0:
                scored.append((score, other.key, other, best))
        scored.sort(key=lambda s: (-s[0], s[1]))
        for _, _, other, best in scored[:NEGATIVES_PER_ENTITY]:
            rows.append(_row(subject, name, other, best, False, "hard_non_match"))
    return rows


def split(entities: list[Entity]) -> tuple[list[Entity], list[Entity]]:
    """Half the entities (fixed seed) for development, the other half held out."""
    ordered = sorted(entities, key=lambda e: e.key)
    random.Random(SPLIT_SEED).shuffle(ordered)
    half = len(ordered) // 2
    return ordered[:half], ordered[half:]


def write_pairs(entities: list[Entity], path: Path) -> tuple[int, int]:
    rows = [r for e in entities for r in positives(e)] + negatives(entities)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, PAIR_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    pos = sum(r["is_match"] == "1" for r in rows)
    return pos, len(rows) - pos


def _ranges(text: str) -> list[tuple[int, int]]:
    out = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    extract = sub.add_parser("extract", help="list files -> list_aliases.csv")
    extract.add_argument("--un", type=Path, help="UN consolidated.xml")
    extract.add_argument("--sdn", type=Path, help="OFAC sdn.csv")
    extract.add_argument("--alt", type=Path, help="OFAC alt.csv")
    extract.add_argument("--ofac-ranges", default="", help="ent_num ranges to keep, e.g. 36-6864,12861-13357")
    extract.add_argument("--out", type=Path, default=ALIASES)
    sub.add_parser("pairs", help="list_aliases.csv -> un_ofac_dev.csv, un_ofac_heldout.csv")
    args = parser.parse_args(argv)
    if args.command == "extract":
        entities: list[Entity] = []
        if args.un:
            entities += un_entities(args.un.read_bytes())
        if args.sdn and args.alt:
            sdn, alt = (p.read_text(encoding="utf-8", errors="replace") for p in (args.sdn, args.alt))
            entities += ofac_entities(sdn, alt, _ranges(args.ofac_ranges))
        print(f"{write_aliases(entities, args.out)} names of {len(entities)} entities -> {args.out}")
        return
    dev, heldout = split(read_entities())
    for part, path in ((dev, DEV), (heldout, HELDOUT)):
        pos, neg = write_pairs(part, path)
        print(f"{path.name}: {len(part)} entities, {pos} positive pairs, {neg} hard non-matches", file=sys.stderr)


if __name__ == "__main__":
    main()
