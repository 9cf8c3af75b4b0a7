"""Optimistic concurrency on every change of a versioned resource (actor, its workflow moves, person, licence, mine
site): the version last read is sent as `version` or If-Match; without it 428, stale 409, contradictory 422."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kyc.register_support import client, create_actor, licence_body, person_body

SITE = {
    "name": "Kamituga Mwenga",
    "location": {"type": "Point", "coordinates": [28.18, -3.06]},
    "country": "CD",
    "minerals": ["7108"],
}
MOVES = ["submit", "start-review", "approve", "reject", "suspend", "reinstate", "reopen", "complete-review"]


async def records(http) -> dict[str, str]:  # type: ignore[no-untyped-def]
    actor = await create_actor(http)
    person = (await http.post(f"/actors/{actor['id']}/persons", json=person_body())).json()
    licence = (await http.post(f"/actors/{actor['id']}/licences", json=licence_body())).json()
    site = (await http.post("/sites", json=SITE)).json()
    return {"actor": actor["id"], "person": person["id"], "licence": licence["id"], "site": site["id"]}


# (method, path, fields of a real change): every change of a versioned resource the API offers.
def changes(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    actor = f"/actors/{ids['actor']}"
    return [
        ("patch", actor, {"tax_number": "T-NEW"}),
        ("patch", f"{actor}/persons/{ids['person']}", {"role": "director"}),
        ("delete", f"{actor}/persons/{ids['person']}", {}),
        ("patch", f"/licences/{ids['licence']}", {"issuer": "Cadastre Minier"}),
        ("patch", f"/sites/{ids['site']}", {"name": "Kamituga II"}),
        *(("post", f"{actor}/{move}", {"reason": "checked"}) for move in MOVES),
    ]


def read_path(method: str, path: str) -> str:
    """Where the resource a change is about is read (a workflow move is about its actor)."""
    return path.rsplit("/", 1)[0] if method == "post" else path


async def send(
    http, method: str, path: str, fields: dict[str, Any], *, version: Any = None, if_match: str | None = None
):  # type: ignore[no-untyped-def]
    body = {**fields, **({"version": version} if version is not None else {})}
    headers = {"If-Match": if_match} if if_match is not None else {}
    if method == "delete":
        return await http.delete(path, headers=headers)
    return await http.request(method, path, json=body, headers=headers)


async def test_a_change_without_the_version_read_is_428_version_required_and_changes_nothing(stack):
    http = client(stack)
    ids = await records(http)

    for method, path, fields in changes(ids):
        before = (await http.get(read_path(method, path))).json()
        response = await send(http, method, path, fields)

        assert response.status_code == 428, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "version_required", (method, path)
        assert (await http.get(read_path(method, path))).json() == before, (method, path)


async def test_a_stale_version_is_409_stale_version_in_the_body_or_in_if_match(stack):
    http = client(stack)
    ids = await records(http)

    for method, path, fields in changes(ids):
        current = (await http.get(read_path(method, path))).json()["version"]
        in_body = await send(http, method, path, fields, version=current + 7) if method != "delete" else None
        in_header = await send(http, method, path, fields, if_match=f'"{current + 7}"')

        for response in filter(None, (in_body, in_header)):
            assert response.status_code == 409, (method, path, response.text)
            assert (response.json()["code"], response.json()["current_version"]) == ("stale_version", current)


async def test_a_version_body_and_header_disagree_on_or_an_unreadable_if_match_is_422(stack):
    http = client(stack)
    ids = await records(http)

    for method, path, fields in changes(ids):
        current = (await http.get(read_path(method, path))).json()["version"]
        garbled = await send(http, method, path, fields, if_match="*")
        if method != "delete":
            disagree = await send(http, method, path, fields, version=current, if_match=f'"{current + 1}"')
            assert (disagree.status_code, disagree.json()["code"]) == (422, "version_mismatch"), (method, path)
        assert (garbled.status_code, garbled.json()["code"]) == (422, "invalid_if_match"), (method, path)


@pytest.mark.parametrize("how", ["body", "if-match"])
async def test_the_current_version_lets_an_edit_through_and_moves_the_version(stack, how):
    http = client(stack)
    ids = await records(http)

    for method, path, fields in changes(ids)[:5]:
        if method == "delete":
            continue
        current = (await http.get(path)).json()["version"]
        if how == "body":
            response = await send(http, method, path, fields, version=current)
        else:
            response = await send(http, method, path, fields, if_match=f'W/"{current}"')

        assert response.status_code == 200, (method, path, response.text)
        assert response.json()["version"] == current + 1, (method, path)


async def test_two_editors_who_read_the_same_version_cannot_overwrite_each_other(stack):
    first, second = client(stack, user="alice"), client(stack, user="bob")
    ids = await records(first)

    for path, mine, theirs in (
        (f"/sites/{ids['site']}", {"name": "Kamituga Nord"}, {"name": "Kamituga Sud"}),
        (f"/licences/{ids['licence']}", {"issuer": "Division des Mines"}, {"issuer": "Cadastre Minier"}),
        (f"/actors/{ids['actor']}/persons/{ids['person']}", {"role": "director"}, {"role": "manager"}),
    ):
        read = (await first.get(path)).json()["version"]
        won = await first.patch(path, json={**mine, "version": read})
        lost = await second.patch(path, json={**theirs, "version": read})

        assert won.status_code == 200 and lost.status_code == 409, path
        stored = (await first.get(path)).json()
        assert all(stored[k] == v for k, v in mine.items()), path


async def test_removing_a_person_names_the_version_read_in_if_match(stack):
    http = client(stack)
    ids = await records(http)
    path = f"/actors/{ids['actor']}/persons/{ids['person']}"
    version = (await http.get(path)).json()["version"]

    removed = await http.delete(path, headers={"If-Match": f'"{version}"'})

    assert removed.status_code == 204
    assert (await http.get(path)).status_code == 404
