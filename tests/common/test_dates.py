"""Every date an API accepts, in a query or a body, is an ISO 8601 string: 0 is not 1970-01-01."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

SERVICES = ["kyc", "incidents", "traceability", "scoring"]
NOT_DATES = [0, 20240101, "0", "2024-01-01T00:00:00", "01/02/2024", "2024-1-1", True]


def _is_date(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date" or any(_is_date(s) for s in schema.get("anyOf", []))


def date_inputs(openapi: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(method, path, "query" or "body", name) of every date input."""
    components = openapi["components"]["schemas"]
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and _is_date(parameter["schema"]):
                    yield method, path, "query", parameter["name"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            model = components.get(body.get("$ref", "").rpartition("/")[2], {})
            for name, field in model.get("properties", {}).items():
                if _is_date(field):
                    yield method, path, "body", name


@pytest.mark.parametrize("service", SERVICES)
async def test_every_date_input_refuses_anything_but_an_iso_date_string(stack, service):
    client = stack.client(service, stack.token(roles=("admin",)))
    openapi = (await client.get("/openapi.json")).json()
    inputs = list(date_inputs(openapi))
    if service == "kyc":
        assert {name for *_, name in inputs} >= {"as_of", "valid_to_before", "valid_from", "birth_date"}

    for method, template, where, name in inputs:
        path = template.format(**{p: uuid4() for p in _path_names(template)})
        for value in NOT_DATES:
            if where == "query":
                response = await client.request(method, path, params={name: value})
            else:
                response = await client.request(method, path, json={name: value})

            assert response.status_code == 422, (method, path, name, value, response.text)
            errors = [e for e in response.json()["errors"] if e["loc"] == [where, name]]
            assert errors and errors[0]["type"] == "iso_date", (method, path, name, value, errors)


def _path_names(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


async def test_an_iso_date_is_still_a_date(stack):
    client = stack.client("kyc", stack.token())

    response = await client.get("/licences", params={"valid_to_before": "2030-01-01"})
    impossible = await client.get("/licences", params={"valid_to_before": "2030-02-30"})

    assert response.status_code == 200
    assert impossible.status_code == 422
