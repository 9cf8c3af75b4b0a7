"""Frameworks: the shipped files and an organisation's uploads; an upload is checked whole before anything is kept."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.db import Executor, utcnow
from libs.common.errors import Conflict, Invalid, NotFound
from services.scoring import catalog, repository
from services.scoring.domain.frameworks import Framework, parse


async def list_frameworks(db: Executor, principal: Principal) -> list[tuple[Framework, str, bool]]:
    """(framework, source, in force) for every version the organisation can assess against."""
    shipped = list(catalog.shipped())
    uploaded = await repository.list_uploaded_frameworks(db, org_id=principal.org_id)
    everything = shipped + uploaded
    forced = {f.code: catalog.in_force(everything, f.code) for f in everything}
    return [(f, "file" if i < len(shipped) else "upload", forced[f.code] is f) for i, f in enumerate(everything)]


async def get_framework(db: Executor, principal: Principal, code: str, version: str | None = None) -> Framework:
    """`version` None: the one in force. Unknown: 404 framework_not_found."""
    found = [f for f, _, forced in await list_frameworks(db, principal) if f.code == code]
    match = [f for f in found if f.version == version] if version is not None else found[-1:]
    if not match:
        raise NotFound(f"no framework {code} version {version or '(any)'}", code="framework_not_found")
    return match[-1]


async def framework_for_body(db: Executor, principal: Principal, code: str, version: str | None) -> Framework:
    try:
        return await get_framework(db, principal, code, version)
    except NotFound as exc:
        raise Invalid(
            f"framework {code} has no version {version or '(any)'} for this organisation",
            code="unknown_framework_version",
            field="framework_version",
        ) from exc


async def upload_framework(db: AsyncSession, principal: Principal, *, source: str) -> Framework:
    framework = parse(source, file="upload")  # 422 with the place of each problem; the previous version stays
    existing = [f for f, _, _ in await list_frameworks(db, principal) if f.code == framework.code]
    if any(f.version == framework.version for f in existing):
        raise Conflict(f"{framework.key} exists; publish a new version", code="framework_version_exists")
    await repository.save_framework(
        db, framework, source=source, org_id=principal.org_id, by=principal.user_id, now=utcnow()
    )
    return framework
