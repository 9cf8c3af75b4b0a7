"""The frameworks an organisation can assess against: the shipped files, then its own uploads (newest in force)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from services.scoring.domain.frameworks import Framework, FrameworkInvalid, Problem, parse

log = logging.getLogger("assay.scoring.frameworks")
SHIPPED = Path(__file__).parent / "frameworks"


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in version.replace("-", ".").split("."))


def load_folder(folder: Path) -> tuple[list[Framework], list[Problem]]:
    """Every valid file of `folder`; a malformed one is left out (logged, its problems returned), so the version
    before it stays in force."""
    frameworks, problems = [], []
    for path in sorted(folder.glob("*.y*ml")) + sorted(folder.glob("*.json")):
        try:
            frameworks.append(parse(path.read_text(encoding="utf-8"), file=path.name))
        except FrameworkInvalid as exc:
            log.error("framework file refused", extra={"file": path.name, "detail": exc.detail})
            problems += [Problem(**p) for p in exc.extra["problems"]]
    return frameworks, problems


@lru_cache(maxsize=8)
def shipped(folder: Path = SHIPPED) -> tuple[Framework, ...]:
    frameworks, _ = load_folder(folder)
    return tuple(sorted(frameworks, key=lambda f: (f.code, version_key(f.version))))


def in_force(frameworks: list[Framework], code: str) -> Framework | None:
    """The last of `frameworks` with `code`: shipped ones in version order, then uploads in upload order."""
    found = [f for f in frameworks if f.code == code]
    return found[-1] if found else None
