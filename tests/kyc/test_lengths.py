"""Every text the API accepts fits the column that stores it: one length per field (services/kyc/lengths.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from services.kyc import lengths
from services.kyc.schemas.actors import RegisterActor, UpdateActor
from services.kyc.schemas.documents import UploadDocument
from services.kyc.schemas.licences import AddLicence, UpdateLicence
from services.kyc.schemas.persons import AddPerson, UpdatePerson
from services.kyc.schemas.risk import RiskAreaEntry
from services.kyc.schemas.screening import DecideHit
from services.kyc.schemas.sharing import ShareActor
from services.kyc.schemas.sites import EditSite, RecordInspection, RegisterSite
from services.kyc.schemas.watchlists import CreateWatchlist
from services.kyc.tables import KycTable
from tests.kyc.register_support import client, create_actor, licence_body

# The request bodies whose fields each table stores, with the body's name of a column where it differs.
BODIES: dict[str, list[tuple[type[BaseModel], dict[str, str]]]] = {
    "actor": [(RegisterActor, {}), (UpdateActor, {})],
    "person": [(AddPerson, {}), (UpdatePerson, {})],
    "licence": [(AddLicence, {}), (UpdateLicence, {})],
    "document": [(UploadDocument, {})],
    "actor_share": [(ShareActor, {"grantee_org_id": "org_id"})],
    "mine_site": [(RegisterSite, {}), (EditSite, {})],
    "site_inspection": [(RecordInspection, {})],
    "risk_area": [(RiskAreaEntry, {})],
    "watchlist": [(CreateWatchlist, {})],
    "screening_hit": [(DecideHit, {})],
}
# Tables no request body writes into: the service fills every column itself.
SERVICE_ONLY = {
    "audit_entry",
    "risk_table",
    "site_status_change",
    "watchlist_snapshot",
    "watchlist_entry",
    "screening_request",
}
# Codes the domain checks against the real lists (unknown_country...): the API admits a little more than the column,
# so a wrong code gets its own problem instead of a length error.
DOMAIN_CHECKED = {("actor", "country"), ("person", "nationality"), ("mine_site", "country")}


def longest(schema: dict[str, Any]) -> int | None:
    """The longest string a property admits: maxLength, or the longest of its allowed values."""
    if "maxLength" in schema:
        return int(schema["maxLength"])
    if "enum" in schema or "const" in schema:
        return max(len(str(v)) for v in schema.get("enum", [schema.get("const")]))
    found = [n for s in schema.get("anyOf", []) if (n := longest(s)) is not None]
    return max(found) if found else None


def column_length(column: sa.Column[Any]) -> int | None:
    """A bounded text column's length (SQLModel's AutoString wraps a String)."""
    kind = column.type
    string = kind if isinstance(kind, sa.String) else getattr(kind, "impl_instance", None)
    return string.length if isinstance(string, sa.String) and string.length else None


def test_every_length_limited_column_and_the_body_fields_it_stores_agree():
    assert set(KycTable.metadata.tables) == set(BODIES) | SERVICE_ONLY, "a new table: say which bodies fill it"
    checked = []
    for name, table in KycTable.metadata.tables.items():
        for column in table.columns:
            length = column_length(column)
            if length is None:
                continue
            for body, renamed in BODIES.get(name, []):
                field = body.model_json_schema()["properties"].get(renamed.get(column.name, column.name))
                if field is None:
                    continue
                admitted = longest(field)
                assert admitted is not None, f"{body.__name__}.{column.name} has no length bound"
                if (name, column.name) in DOMAIN_CHECKED:
                    assert admitted == lengths.CODE_INPUT
                else:
                    assert admitted <= length, (name, column.name, body.__name__)
                    if "maxLength" in str(field):
                        assert admitted == length, (name, column.name, body.__name__)
                checked.append((name, column.name))
    assert {("licence", "issuer"), ("watchlist", "name"), ("actor_share", "grantee_org_id")} <= set(checked)


async def test_a_watchlist_name_one_past_its_column_is_refused_not_a_server_error(stack):
    http = client(stack)

    too_long = await http.post("/watchlists", json={"name": "L" * (lengths.WATCHLIST_NAME + 1), "format": "csv"})
    longest_allowed = await http.post("/watchlists", json={"name": "L" * lengths.WATCHLIST_NAME, "format": "csv"})

    assert too_long.status_code == 422 and too_long.json()["code"] == "validation_error"
    assert longest_allowed.status_code == 201, longest_allowed.text


async def test_a_licence_issuer_longer_than_its_column_is_refused_on_add_and_on_edit(stack):
    http = client(stack)
    actor = await create_actor(http)

    added = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(issuer="I" * 201))
    licence = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(issuer="I" * 200))
    edited = await http.patch(f"/licences/{licence.json()['id']}", json={"issuer": "I" * 300})

    assert added.status_code == 422 and added.json()["code"] == "validation_error"
    assert licence.status_code == 201, licence.text
    assert edited.status_code == 422 and edited.json()["code"] == "validation_error"


async def test_a_number_that_grows_past_its_column_when_upper_cased_is_refused(stack):
    http = client(stack)
    actor = await create_actor(http)

    response = await http.post(f"/actors/{actor['id']}/licences", json=licence_body(number="ß" * 60))
    registered = await http.post(
        "/actors", json={"actor_type": "trader", "legal_name": "X", "country": "CD", "registration_number": "ß" * 51}
    )

    assert response.status_code == 422 and response.json()["code"] == "too_long"
    assert registered.status_code == 422 and registered.json()["code"] == "too_long"
