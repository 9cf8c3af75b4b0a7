"""Tokens from an OpenID Connect issuer (Keycloak-shaped): keys found through discovery, rotated, withdrawn; an
unreachable issuer answers 503 until its keys load; unknown key ids never make a fetch storm. The issuer is a real
local HTTP server (tests/support/issuer.py), not a stand-in for our code."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from libs.common.auth import TokenVerifier
from tests.support.bus import eventually
from tests.support.issuer import KEYCLOAK_CLAIMS, SUBJECT, Issuer, SigningKey
from tests.support.stack import TEST_JWT_SECRET

ROUTE = "/known-actors"  # any route that needs a token


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    issuer.publish(SigningKey("key-a"), SigningKey("key-b", curve=True))
    yield issuer.start()
    issuer.stop()


def oidc(issuer: Issuer, **overrides: Any) -> dict[str, Any]:
    return {"oidc_issuer": issuer.url, "oidc_jwks_min_refresh_seconds": 0, **KEYCLOAK_CLAIMS, **overrides}


async def get(stack, token: str, **settings: Any):  # type: ignore[no-untyped-def]
    return await stack.client("traceability", token, **settings).get(ROUTE)


def assert_refused(response, reason: str, status: int = 401) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.get("reason", body["code"]) == reason, body
    return body


async def test_a_token_of_either_published_key_is_accepted_with_keycloaks_claim_mapping(stack, issuer):
    client = stack.client("traceability", **oidc(issuer))
    verifier: TokenVerifier = client._transport.app.state.tokens  # type: ignore[attr-defined]

    for key in issuer.published:
        response = await client.get(ROUTE, headers={"authorization": f"Bearer {issuer.token(key)}"})
        assert response.status_code == 200, response.text
    principal = await verifier.principal(issuer.token(issuer.published[0]))

    assert (principal.org_id, principal.org_kind, principal.user_id) == ("org-a", "operator", SUBJECT)
    assert {"analyst", "offline_access"} <= principal.roles
    assert issuer.served["/.well-known/openid-configuration"] == 1 and issuer.jwks_reads == 1


async def test_rotation_a_new_key_is_fetched_and_a_withdrawn_one_is_refused_even_if_remembered(stack, issuer):
    old, kept = issuer.published
    client = stack.client("traceability", **oidc(issuer))
    remembered = issuer.token(old)
    assert (await client.get(ROUTE, headers=bearer(remembered))).status_code == 200

    new = SigningKey("key-c")
    issuer.publish(kept, new)  # the issuer rotates: key-a withdrawn, key-c added
    with_new = await client.get(ROUTE, headers=bearer(issuer.token(new)))
    with_old = await client.get(ROUTE, headers=bearer(remembered))

    assert with_new.status_code == 200, with_new.text
    assert_refused(with_old, "unknown_key")
    assert (await client.get(ROUTE, headers=bearer(issuer.token(kept)))).status_code == 200


async def test_unknown_key_ids_re_read_the_keys_at_most_once_per_interval(stack, issuer):
    client = stack.client("traceability", **oidc(issuer, oidc_jwks_min_refresh_seconds=3600))
    key = issuer.published[0]
    assert (await client.get(ROUTE, headers=bearer(issuer.token(key)))).status_code == 200
    reads = issuer.jwks_reads

    responses = [
        await client.get(ROUTE, headers=bearer(issuer.token(key, kid=f"forged-{uuid.uuid4()}"))) for _ in range(25)
    ]

    for response in responses:
        assert_refused(response, "unknown_key")
    assert issuer.jwks_reads == reads  # the last read is younger than the interval: no fetch at all


async def test_an_unreachable_issuer_answers_503_until_its_keys_load_then_tokens_work(stack, caplog):
    issuer = Issuer()  # not started: nothing listens on its port yet
    key = SigningKey("key-a")
    issuer.publish(key)
    client = stack.client("traceability", **oidc(issuer))
    caplog.set_level(logging.INFO, logger="assay.oidc")

    while_down = await client.get(ROUTE, headers=bearer(issuer.token(key)))
    public = await client.get("/health")
    issuer.start()
    try:
        after = await client.get(ROUTE, headers=bearer(issuer.token(key)))
    finally:
        issuer.stop()

    body = assert_refused(while_down, "identity_provider_unavailable", status=503)
    assert "identity provider" in body["detail"]
    assert public.status_code == 200
    assert any("identity provider unreachable" in r.getMessage() for r in caplog.records)
    assert after.status_code == 200, after.text
    assert any(r.getMessage() == "identity provider keys loaded" for r in caplog.records)


async def test_at_start_up_an_unreachable_issuer_is_retried_in_the_background_until_it_answers(stack, caplog):
    issuer = Issuer()
    issuer.publish(SigningKey("key-a"))
    verifier = TokenVerifier(stack.settings("traceability", **oidc(issuer)))
    caplog.set_level(logging.INFO, logger="assay.oidc")
    assert verifier.keys is not None

    await verifier.start()  # the service starts although the issuer does not answer
    unreachable_logged = [r for r in caplog.records if "unreachable" in r.getMessage()]
    issuer.start()
    try:
        await eventually(lambda: _loaded(verifier), timeout=15)
    finally:
        await verifier.close()
        issuer.stop()

    assert len(unreachable_logged) == 1 and unreachable_logged[0].levelname == "ERROR"


async def _loaded(verifier: TokenVerifier) -> bool:
    return verifier.keys is not None and verifier.keys.loaded


@pytest.mark.parametrize(
    ("claims", "reason", "claim"),
    [
        ({"realm_access": None}, "missing_claim", "roles"),  # the roles path resolves to nothing
        ({"realm_access": {"roles": "analyst"}, "organisation": {"kind": "operator"}}, "missing_claim", "org"),
        ({"organisation": {"id": ["org-a"], "kind": "operator"}}, "bad_claims", "org"),
        ({"organisation": {"id": "org-a", "kind": "pirate"}}, "bad_claims", "org_kind"),
        ({"sub": ""}, "bad_claims", "user"),
    ],
    ids=["no-roles", "no-org", "org-list", "bad-kind", "empty-sub"],
)
async def test_a_claim_path_that_resolves_to_nothing_or_to_a_wrong_value_is_a_401_naming_it(
    stack, issuer, claims, reason, claim
):
    response = await get(stack, issuer.token(issuer.published[0], **claims), **oidc(issuer))

    body = assert_refused(response, reason)
    assert body["claim"] == claim


async def test_audience_issuer_algorithm_and_expiry_are_checked_with_the_configured_leeway(stack, issuer):
    key = issuer.published[0]
    settings = oidc(issuer)
    expired_a_bit = issuer.token(key, exp=int(time.time()) - 10)

    assert_refused(await get(stack, issuer.token(key, aud="account"), **settings), "wrong_audience")
    assert_refused(await get(stack, issuer.token(key, iss="http://127.0.0.1:1/other"), **settings), "wrong_issuer")
    assert_refused(await get(stack, expired_a_bit, **settings), "expired")
    assert (await get(stack, expired_a_bit, **settings, jwt_leeway_seconds=30)).status_code == 200
    # An HS256 token naming a published kid: the public key must never serve as an HMAC secret.
    hmac = jwt.encode({"sub": "x"}, TEST_JWT_SECRET, algorithm="HS256", headers={"kid": key.kid})
    assert_refused(await get(stack, hmac, **settings), "wrong_algorithm")
    only_es = await get(stack, issuer.token(key), **settings, jwt_algorithms="ES256")
    assert_refused(only_es, "wrong_algorithm")


async def test_a_namespaced_claim_with_dots_in_its_name_is_found_whole(stack, issuer):
    token = issuer.token(issuer.published[0], **{"https://assay.dev/roles": ["admin"]})

    response = await get(stack, token, **oidc(issuer, jwt_claim_roles="https://assay.dev/roles"))

    assert response.status_code == 200, response.text


def test_a_secret_algorithm_with_an_issuer_is_refused_at_start_up():
    from libs.common.settings import ServiceSettings

    with pytest.raises(ValueError, match="JWT_SECRET"):
        ServiceSettings(oidc_issuer="http://127.0.0.1:1/realm", jwt_algorithms="HS256,RS256")


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
