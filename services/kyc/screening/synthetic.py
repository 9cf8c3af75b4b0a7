"""Deterministic synthetic watchlists and perturbed subjects, for evaluation distractors and benchmarks."""

from __future__ import annotations

import random
from collections.abc import Iterator

from .model import ListEntry

_GIVEN = {
    "CD": "jean pierre joseph marie claude patrice felix laurent emmanuel dieudonne augustin "
    "bienvenu christophe delphin faustin germain honore innocent justin kasongo mbuyi "
    "alphonse celestin evariste gedeon josue moise roger serge theo",
    "RW": "jean baptiste eric emmanuel claude innocent olivier theogene protais fidele aloys "
    "celestin gaspard jerome straton vianney didace ildephonse",
    "UG": "moses joseph david peter samuel robert richard henry julius patrick godfrey ronald "
    "brian isaac edward geoffrey",
    "BI": "pierre evariste leonce gervais domitien melchior prosper venant sylvestre adolphe",
    "CO": "juan carlos luis jorge andres diego alejandro santiago camilo mauricio hernan fabio oscar wilson",
    "PE": "jose miguel victor cesar raul pedro manuel alberto ricardo fernando walter hugo",
    "RU": "sergey alexander dmitry andrei nikolai ivan mikhail vladimir oleg pavel yuri "
    "gennady boris anatoly viktor igor",
    "SD": "mohamed ahmed ali omar hassan hussein ibrahim khalid yusuf abdallah osman mustafa salih tariq hamza bakri",
}
_SYLLABLES = {
    "CD": "ka ba mu ngo lu mbe ki tshi sa ma bu ko nda la ya ku mwa nge ilu to bo di fu ha je "
    "ke le mi nu pa ri se ti vu wa zo lo mbu nsi kwa",
    "RW": "ha bi ya ri ma na nsen gi yi mu ka ru ba ze nta ho ku ne ge te ma hi bu se ga gwa nye twa mbe re ta",
    "UG": "mu se ki wa nyi ga ba ka to lu be gu wo ke si ra ye ny ta ku bwa nda mpa ti go",
    "BI": "ndi ka yi nku ru zi ga ba ho ni ma bu hi ge na te se ko me ri nta mvu",
    "CO": "gar ro mon ta ve quez ri os cas tro ber mu dez al ca lo na pe sal gon zar fer tei bel mar",
    "PE": "hua ma qui spe cha llo pa ri ta ca ni co tu ya pu an ru chi ccol lla mi so",
    "RU": "vol kov so ro kin le be dev pa nov zu ba rev ko zlo mi ga tro stra ny shin bel gor lov sa",
    "SD": "ha mad al ta yeb sa lim bash ir khal fa ras nu ra din ja ma ab bas ka ri mun da",
}
_SUFFIX = {"RU": ("ov", "in", "enko", "sky", "ev"), "CO": ("ez", "o", "a"), "PE": ("", "a", "o")}
_ORG_WORDS = ("Mining", "Minerals", "Gold", "Trading", "Resources", "Exploration", "Metals", "")
_LEGAL = {
    "CD": ("SARL", "SA", "SPRL", "Ets"),
    "RW": ("Ltd", "Limited"),
    "UG": ("Ltd",),
    "BI": ("SPRL", "SA"),
    "CO": ("SAS", "Ltda", "SA"),
    "PE": ("SAC", "SRL", "EIRL"),
    "RU": ("OOO", "JSC", "PJSC"),
    "SD": ("Co", "Ltd", "Group"),
}
_CYR = [
    ("shch", "щ"),
    ("tsh", "ч"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("ph", "ф"),
    ("th", "т"),
    ("ou", "у"),
    ("ya", "я"),
    ("yu", "ю"),
    ("a", "а"),
    ("b", "б"),
    ("v", "в"),
    ("g", "г"),
    ("d", "д"),
    ("e", "е"),
    ("z", "з"),
    ("i", "и"),
    ("y", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("f", "ф"),
    ("h", "х"),
    ("c", "к"),
    ("w", "в"),
    ("j", "дж"),
    ("x", "кс"),
    ("q", "к"),
]
_ARB = [
    ("sh", "ش"),
    ("kh", "خ"),
    ("th", "ث"),
    ("b", "ب"),
    ("t", "ت"),
    ("j", "ج"),
    ("h", "ح"),
    ("d", "د"),
    ("r", "ر"),
    ("z", "ز"),
    ("s", "س"),
    ("f", "ف"),
    ("q", "ق"),
    ("k", "ك"),
    ("l", "ل"),
    ("m", "م"),
    ("n", "ن"),
    ("w", "و"),
    ("y", "ي"),
    ("u", "و"),
    ("o", "و"),
    ("i", "ي"),
    ("g", "ج"),
    ("v", "ف"),
    ("p", "ب"),
    ("c", "ك"),
    ("x", "كس"),
    ("a", ""),
    ("e", ""),
]


def _translit(text: str, table: list[tuple[str, str]]) -> str:
    out, i, low = [], 0, text.lower()
    while i < len(low):
        for latin, other in table:
            if low.startswith(latin, i):
                out.append(other)
                i += len(latin)
                break
        else:
            out.append(low[i])
            i += 1
    return "".join(out)


def to_cyrillic(name: str) -> str:
    """Rough Latin -> Cyrillic rendering (enough to exercise transliteration)."""
    return _translit(name, _CYR).title()


def to_arabic(name: str) -> str:
    """Rough Latin -> Arabic-script rendering without short vowels."""
    return _translit(name, _ARB)


class NameGenerator:
    """Region-flavoured person and organisation names from syllables; same seed, same names."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.regions = sorted(_GIVEN)
        self.given = {r: g.split() for r, g in _GIVEN.items()}
        self.syllables = {r: s.split() for r, s in _SYLLABLES.items()}

    def word(self, region: str) -> str:
        rng = self.rng
        parts = rng.choices(self.syllables[region], k=rng.choice((2, 3, 3, 4)))
        return ("".join(parts) + rng.choice(_SUFFIX.get(region, ("",)))).capitalize()

    def person(self, region: str) -> str:
        rng = self.rng
        given = [g.capitalize() for g in rng.sample(self.given[region], rng.choice((1, 1, 2)))]
        surnames = [self.word(region) for _ in range(rng.choice((1, 1, 2)))]
        return " ".join(given + surnames) if rng.random() < 0.6 else " ".join(surnames + given)

    def organization(self, region: str) -> str:
        rng = self.rng
        core = " ".join(self.word(region) for _ in range(rng.choice((1, 1, 2))))
        parts = [core, rng.choice(_ORG_WORDS), rng.choice(_LEGAL[region])]
        return " ".join(p for p in parts if p)

    def entry(self, number: int) -> ListEntry:
        rng = self.rng
        region = rng.choice(self.regions)
        kind = "person" if rng.random() < 0.7 else "organization"
        name = self.person(region) if kind == "person" else self.organization(region)
        names = [name]
        roll = rng.random()
        if roll < 0.03:
            names.append(to_cyrillic(name))
        elif roll < 0.05 and region == "SD":
            names.append(to_arabic(name))
        elif roll < 0.12:
            names.append(self.person(region) if kind == "person" else self.organization(region))
        born = (f"{rng.randint(1940, 2000)}",) if kind == "person" and rng.random() < 0.6 else ()
        return ListEntry(f"syn-{number}", kind, tuple(names), born, (region,), (), ("SYNTHETIC",))


def synthetic_entries(n_names: int, seed: int = 7) -> Iterator[ListEntry]:
    """Entries until n_names names (primary plus aliases) have been produced."""
    gen = NameGenerator(seed)
    produced = number = 0
    while produced < n_names:
        entry = gen.entry(number)
        produced += len(entry.names)
        number += 1
        yield entry


def perturb(name: str, rng: random.Random, kind: str = "person") -> tuple[str, str]:
    """A realistic variant of a listed name and what was done to it (persons may also lose a
    middle name, get an initial or be written in Cyrillic; organisations get typos, re-ordering
    or case changes, since their legal forms would be translated rather than transliterated)."""
    words = name.split()
    person_only = ("drop", "initial", "cyrillic") if kind == "person" else ()
    how = rng.choice(("typo", "order", "case", *person_only))
    if how == "typo":
        i = max(range(len(words)), key=lambda k: len(words[k]))
        w = words[i]
        pos = rng.randrange(1, len(w) - 1) if len(w) > 3 else 1
        words[i] = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2 :] if pos + 1 < len(w) else w + "a"
    elif how == "order" and len(words) > 1:
        words = words[1:] + words[:1]
    elif how == "cyrillic":
        return to_cyrillic(name), how
    elif how == "drop" and len(words) > 2:
        del words[1]
    elif how == "initial" and len(words) > 1:
        words[0] = words[0][0] + "."
    else:
        return name.upper(), "case"
    return " ".join(words), how
