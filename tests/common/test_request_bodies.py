"""Every request body of every service, JSON or multipart form, refuses fields the API does not know."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.kyc.register_support import PDF, actor_body

SERVICES = ["kyc", "incidents", "traceability", "scoring"]


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema["$ref"].rpartition("/")[2]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def body_models(openapi: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component a request body reaches, nested models included, by name."""
    components = openapi.get("components", {}).get("schemas", {})
    pending = [
        name
        for operations in openapi["paths"].values()
        for operation in operations.values()
        for name in _refs(operation.get("requestBody", {}))
    ]
    found: dict[str, dict[str, Any]] = {}
    while pending:
        name = pending.pop()
        if name not in found:
            found[name] = components[name]
            pending.extend(_refs(components[name]))
    return found


@pytest.mark.parametrize("service", SERVICES)
async def test_every_request_body_model_forbids_unknown_fields(stack, service):
    openapi = (await stack.client(service).get("/openapi.json")).json()

    models = body_models(openapi)

    objects = {name: model for name, model in models.items() if model.get("type") == "object"}
    assert all(model.get("additionalProperties") is False for model in objects.values()), [
        name for name, model in objects.items() if model.get("additionalProperties") is not False
    ]
    if service == "kyc":
        assert {"CreateWatchlist", "DecideHit", "RegisterActor", "Address"} <= set(objects)
        assert any(name.endswith("UploadDocument") for name in objects), "the upload form is a model too"


async def test_an_unknown_field_is_refused_in_json_and_in_multipart_forms(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await client.post("/watchlists", json={"name": "Own list", "format": "csv", "colour": "red"})
    actor = await client.post("/actors", json=actor_body(favourite="gold"))
    document = await client.post(
        "/documents", data={"doc_type": "licence", "folder": "x"}, files={"file": ("p.pdf", PDF, "application/pdf")}
    )

    for response, field in ((watchlist, "colour"), (actor, "favourite"), (document, "folder")):
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["code"] == "validation_error"
        assert {"loc": ["body", field], "type": "extra_forbidden"}.items() <= problem["errors"][0].items()
    assert (await client.get("/watchlists")).json() == []
