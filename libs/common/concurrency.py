"""Optimistic concurrency over HTTP: the version a client last read, sent back with every change of a versioned
resource as the body's `version` or an `If-Match` header; without either the change is refused (428)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

from libs.common.errors import Invalid, PreconditionRequired

MAX_VERSION = 2**31 - 1
_ENTITY_TAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,10})"?\s*$')


async def _if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='the version last read, e.g. "3" (instead of `version` in the body)',
            max_length=40,
        ),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    found = _ENTITY_TAG.match(if_match)
    if found is None or not 1 <= int(found.group(1)) <= MAX_VERSION:
        raise Invalid('If-Match holds one version the resource was read at, e.g. "3"', code="invalid_if_match")
    return int(found.group(1))


# The version an If-Match header names (None: no header).
IfMatch = Annotated[int | None, Depends(_if_match)]
# What a route that changes a versioned resource declares (its 4xx bodies are problems, see libs/common/app.py).
VERSION_RESPONSES: dict[int | str, dict[str, str]] = {
    409: {"description": "stale_version: the resource moved since it was read (with `current_version`)"},
    422: {"description": "version_mismatch (body and If-Match disagree), invalid_if_match"},
    428: {"description": "version_required: send `version` in the body or an If-Match header"},
}


def expected_version(sent: int | None, if_match: int | None) -> int:
    """The version the client read, from the body or the header: 428 version_required without either, 422
    version_mismatch when they disagree. The resource then answers 409 stale_version if it has moved since."""
    if sent is None and if_match is None:
        raise PreconditionRequired(
            "send the version you last read, as `version` in the body or an If-Match header, so that your change "
            "cannot overwrite one made since",
            code="version_required",
        )
    if sent is not None and if_match is not None and sent != if_match:
        raise Invalid(f"the body says version {sent}, If-Match says {if_match}", code="version_mismatch")
    return sent if sent is not None else if_match  # type: ignore[return-value]
