"""Bearer tokens: a refused one is told why in fixed words, never the library's; verified ones are cached briefly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from libs.common import token as token_command
from libs.common.auth import TokenVerifier, issue_token
from libs.common.errors import Unauthorized
from tests.support.stack import TEST_JWT_SECRET


def claims(**changes: object) -> dict:
    now = datetime.now(UTC)
    values = {
        "sub": "u",
        "org": "org-a",
        "org_kind": "operator",
        "roles": ["admin"],
        "iss": "assay",
        "aud": "assay",
        "exp": now + timedelta(hours=1),
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def signed(**changes: object) -> str:
    return jwt.encode(claims(**changes), TEST_JWT_SECRET, algorithm="HS256")


REFUSED = [
    (lambda: signed(exp=datetime.now(UTC) - timedelta(seconds=5)), "expired", "Signature has expired"),
    (lambda: signed(aud="someone-else"), "wrong_audience", "someone-else"),
    (lambda: signed(iss="someone-else"), "wrong_issuer", "someone-else"),
    (
        lambda: jwt.encode(claims(), "not-the-key-the-services-trust-0123456789", algorithm="HS256"),
        "bad_signature",
        "Signature verification failed",
    ),
    (lambda: "garbage", "malformed", "Not enough segments"),
    (lambda: signed(exp=None), "missing_claim", '"exp"'),
    (lambda: signed(org=None), "missing_claim", "'org'"),
    (lambda: signed(org_kind="pirate"), "bad_claims", "pirate"),
]


@pytest.mark.parametrize(("make_token", "reason", "library_text"), REFUSED, ids=[r[1] for r in REFUSED])
async def test_a_refused_token_gets_a_fixed_detail_per_kind_and_no_library_text(
    stack, make_token, reason, library_text
):
    response = await stack.client("traceability", make_token()).get("/known-actors")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["reason"]) == ("invalid_token", reason)
    assert library_text not in response.text


async def test_every_kind_of_refusal_has_its_own_detail(stack):
    details = set()
    for make_token, _, _ in REFUSED[:-1]:
        details.add((await stack.client("traceability", make_token()).get("/known-actors")).json()["detail"])

    assert len(details) == len(REFUSED) - 1  # the last two are claims' details


async def test_a_remembered_token_is_still_refused_once_it_expires(stack):
    settings = stack.settings("traceability")
    token = issue_token(
        settings, user_id="u", org_id="org-a", org_kind="operator", roles=["admin"], ttl=timedelta(seconds=1.5)
    )
    client = stack.client("traceability", token)

    before = await client.get("/known-actors")
    await asyncio.sleep(2.0)
    after = await client.get("/known-actors")

    assert before.status_code == 200
    assert after.status_code == 401 and after.json()["reason"] == "expired"


async def test_the_token_cache_keeps_at_most_its_size_and_only_verified_tokens(stack):
    settings = stack.settings("traceability")
    cache = TokenVerifier(settings, cache_size=2, cache_seconds=60)
    tokens = [issue_token(settings, user_id=f"u{n}", org_id="org-a", org_kind="operator", roles=[]) for n in range(3)]

    principals = [await cache.principal(token) for token in tokens]
    with pytest.raises(Unauthorized):
        await cache.principal("garbage")

    assert [p.user_id for p in principals] == ["u0", "u1", "u2"]
    assert len(cache) == 2
    assert await cache.principal(tokens[2]) is principals[2]  # served from the cache, the same object


@pytest.mark.parametrize("org", [None, "", "  ", ["org-a"], {"id": "org-a"}, 42, "assay:default"], ids=repr)
async def test_a_correctly_signed_token_whose_org_is_not_a_callers_org_id_is_refused(stack, org):
    # not a non-empty string, or one the platform reserves for itself (assay:…)
    token = jwt.encode({**claims(), "org": org}, TEST_JWT_SECRET, algorithm="HS256")

    response = await stack.client("traceability", token).get("/known-actors")

    assert response.status_code == 401
    assert response.json()["claim"] == "org"
    assert response.json()["reason"] in ("missing_claim", "bad_claims")


async def test_a_token_without_roles_claim_is_refused_and_an_empty_list_is_a_caller_without_roles(stack):
    without = await stack.client("traceability", signed(roles=None)).get("/known-actors")
    empty = await TokenVerifier(stack.settings("traceability")).principal(signed(roles=[]))

    assert without.status_code == 401 and without.json()["claim"] == "roles"
    assert empty.roles == frozenset()


def test_make_token_refuses_role_names_the_services_do_not_know(capsys):
    with pytest.raises(SystemExit) as exit_:
        token_command.main(["--roles", "admin,superuser"])

    assert exit_.value.code == 2
    assert "unknown role(s) superuser" in capsys.readouterr().err
    assert jwt.decode(token_command.main(["--roles", "auditor"]), options={"verify_signature": False})["roles"] == [
        "auditor"
    ]


async def test_the_actor_id_claim_is_read_from_its_configured_path_and_is_optional(stack):
    settings = stack.settings("traceability", jwt_claim_actor_id="ext.actor")
    named = await TokenVerifier(settings).principal(signed(org_kind="smelter", ext={"actor": "a-1"}))
    unnamed = await TokenVerifier(stack.settings("traceability")).principal(signed())

    assert (named.actor_id, unnamed.actor_id) == ("a-1", None)
    with pytest.raises(Unauthorized):
        await TokenVerifier(stack.settings("traceability")).principal(signed(actor_id=["a-1"]))


def test_make_token_names_the_smelters_actor():
    token = token_command.main(["--kind", "smelter", "--actor", "a-7"])

    assert jwt.decode(token, options={"verify_signature": False})["actor_id"] == "a-7"
    assert "actor_id" not in jwt.decode(token_command.main([]), options={"verify_signature": False})
