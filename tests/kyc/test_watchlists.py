"""Watchlists through the API: imports become versioned snapshots; unchanged files change nothing; malformed files
are refused with their location and leave the snapshot in force."""

from __future__ import annotations

from typing import get_args
from uuid import UUID

from services.kyc.schemas.watchlists import ListFormat
from services.kyc.screening.lists import FORMATS
from services.kyc.tables.screening import (
    ScreeningRequestRow,
    WatchlistEntryRow,
    WatchlistSnapshotRow,
)
from tests.kyc.screening_steps import new_watchlist, outbox_types, rows, upload
from tests.kyc.watchlist_files import (
    FTM_LIST,
    GLMC,
    KAZANTSEV,
    MULUMBA,
    UN_LIST,
    ZUBAIDI,
    UnIndividual,
    un_xml,
)


async def test_a_un_xml_file_becomes_version_1_with_its_entries_and_the_file_kept(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client)

    response = await upload(client, watchlist["id"], UN_LIST)

    assert response.status_code == 201, response.text
    snapshot = response.json()
    assert (snapshot["version"], snapshot["entry_count"], snapshot["added_count"]) == (1, 4, 4)
    current = (await client.get(f"/watchlists/{watchlist['id']}")).json()
    assert current["version"] == 1 and current["current_snapshot"]["id"] == snapshot["id"]
    entries = await rows(stack, WatchlistEntryRow, watchlist_id=UUID(watchlist["id"]))
    assert sorted(e.entry_id for e in entries) == ["CDe.901", "CDi.901", "CDi.902", "CDi.903"]
    stored = await rows(stack, WatchlistSnapshotRow, id=UUID(snapshot["id"]))
    assert await stack.app("kyc").state.store.get(stored[0].object_key) == UN_LIST
    assert await outbox_types(stack) == ["WatchlistCreated.v1", "WatchlistImported.v1"]
    assert len(await rows(stack, ScreeningRequestRow, subject_type="snapshot")) == 1


async def test_the_list_of_watchlists_shows_each_ones_snapshot_in_force(stack):
    client = stack.client("kyc", stack.token())
    un = await new_watchlist(client)
    empty = await new_watchlist(client, "OpenSanctions DRC", "ftm_jsonl")
    snapshot = (await upload(client, un["id"], UN_LIST)).json()

    listed = {w["id"]: w for w in (await client.get("/watchlists")).json()}

    assert listed[un["id"]]["current_snapshot"] == snapshot
    assert listed[un["id"]] == (await client.get(f"/watchlists/{un['id']}")).json()
    assert listed[empty["id"]]["current_snapshot"] is None


async def test_an_ftm_json_lines_export_imports_its_parties_and_skips_other_schemas(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client, "OpenSanctions DRC", "ftm_jsonl")

    response = await upload(client, watchlist["id"], FTM_LIST, "export.json")

    assert response.status_code == 201, response.text
    assert response.json()["entry_count"] == 2


async def test_reimporting_the_same_file_changes_nothing(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client)
    first = (await upload(client, watchlist["id"], UN_LIST)).json()

    again = await upload(client, watchlist["id"], UN_LIST)
    reformatted = await upload(client, watchlist["id"], UN_LIST.replace(b"><", b">\n<"))

    assert again.status_code == 200 and again.json() == first
    assert reformatted.status_code == 200 and reformatted.json()["id"] == first["id"]
    assert len(await rows(stack, WatchlistSnapshotRow, watchlist_id=UUID(watchlist["id"]))) == 1
    assert await outbox_types(stack) == ["WatchlistCreated.v1", "WatchlistImported.v1"]
    assert len(await rows(stack, ScreeningRequestRow)) == 1


async def test_a_malformed_file_is_refused_with_its_location_and_the_snapshot_in_force_stays(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client)
    first = (await upload(client, watchlist["id"], UN_LIST)).json()
    nameless = UnIndividual("CDi.999", "")
    broken = un_xml([KAZANTSEV, ZUBAIDI, nameless])

    response = await upload(client, watchlist["id"], broken)

    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "malformed_list"
    assert problem["location"] == "record 3 (INDIVIDUAL)" and "FIRST_NAME" in problem["reason"]
    assert (await client.get(f"/watchlists/{watchlist['id']}")).json()["current_snapshot"]["id"] == first["id"]
    entries = await rows(stack, WatchlistEntryRow, watchlist_id=UUID(watchlist["id"]))
    assert len(entries) == 4 and not any(e.removed for e in entries)


async def test_a_csv_row_with_an_unterminated_quote_is_refused_naming_its_line(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client, "Own list", "csv")
    csv = (
        b"id,name,kind,aliases,birth_date,country,identifiers,program\n"
        b"L-1,Jean Bosco,person,,,CD,,\n"
        b'L-2,"unterminated,person,,,,,\n'
    )

    response = await upload(client, watchlist["id"], csv, "own.csv")
    stray = await upload(client, watchlist["id"], b'id,name\nL-1,"Jean" Bosco\n', "own.csv")

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "malformed_list" and problem["location"] == "line 3"
    assert "not valid CSV" in problem["reason"]
    assert stray.status_code == 422 and stray.json()["location"] == "line 2"
    assert (await client.get(f"/watchlists/{watchlist['id']}")).json()["version"] == 0
    assert await rows(stack, WatchlistEntryRow, watchlist_id=UUID(watchlist["id"])) == []


async def test_xml_that_is_not_well_formed_or_declares_entities_is_refused(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<CONSOLIDATED_LIST><INDIVIDUALS/>&b;</CONSOLIDATED_LIST>"
    )

    truncated = await upload(client, watchlist["id"], UN_LIST[:-40])
    entities = await upload(client, watchlist["id"], bomb)

    assert truncated.status_code == 422 and truncated.json()["location"].startswith("line ")
    assert entities.status_code == 422 and entities.json()["code"] == "malformed_list"
    assert (await client.get(f"/watchlists/{watchlist['id']}")).json()["version"] == 0


async def test_a_changed_file_makes_a_new_version_counting_added_changed_and_removed_entries(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client)
    await upload(client, watchlist["id"], UN_LIST)
    renamed = UnIndividual(**{**ZUBAIDI.__dict__, "aliases": ["Abu Yasir", "Khaled al-Zobaidi"]})
    newcomer = UnIndividual("CDi.904", "Bosco", "Ntabo", "Ruhigita", nationality="Rwanda")

    response = await upload(client, watchlist["id"], un_xml([KAZANTSEV, renamed, newcomer], [GLMC]))

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["added_count"], body["changed_count"], body["removed_count"]) == (2, 1, 1, 1)
    entries = {e.entry_id: e for e in await rows(stack, WatchlistEntryRow, watchlist_id=UUID(watchlist["id"]))}
    assert entries[MULUMBA.reference].removed and entries[MULUMBA.reference].changed_version == 2
    assert entries["CDi.902"].changed_version == 2 and entries["CDi.902"].first_seen_version == 1
    assert entries["CDi.901"].changed_version == 1
    history = (await client.get(f"/watchlists/{watchlist['id']}/snapshots")).json()
    assert [s["version"] for s in history["items"]] == [2, 1] and history["total"] == 2


async def test_an_empty_list_does_not_replace_the_one_in_force_without_confirmation(stack):
    client = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(client)
    first = (await upload(client, watchlist["id"], UN_LIST)).json()
    empty = un_xml([])

    refused = await upload(client, watchlist["id"], empty)
    confirmed = await client.post(
        f"/watchlists/{watchlist['id']}/imports",
        params={"confirm_removals": "true"},
        files={"file": ("list.xml", empty, "application/xml")},
    )

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "confirmation_required"
    assert (problem["listed"], problem["removed"], problem["added"], problem["max_removal_share"]) == (4, 4, 0, 0.5)
    assert confirmed.status_code == 201, confirmed.text
    assert (confirmed.json()["version"], confirmed.json()["entry_count"], confirmed.json()["removed_count"]) == (
        2,
        0,
        4,
    )
    assert [s["id"] for s in (await client.get(f"/watchlists/{watchlist['id']}/snapshots")).json()["items"]][1:] == [
        first["id"]
    ]


async def test_removing_up_to_the_set_share_needs_no_confirmation_and_the_share_is_a_setting(stack):
    client = stack.client("kyc", stack.token())
    strict = stack.client("kyc", stack.token(), kyc_watchlist_max_removal_share=0.2)
    watchlist = await new_watchlist(client)
    await upload(client, watchlist["id"], UN_LIST)

    half = await upload(client, watchlist["id"], un_xml([KAZANTSEV, ZUBAIDI]))  # 2 of 4 removed: 50 %
    over_share = await upload(strict, watchlist["id"], un_xml([KAZANTSEV]))  # 1 of 2 removed: over 20 %

    assert half.status_code == 201 and half.json()["removed_count"] == 2
    assert over_share.status_code == 409 and over_share.json()["code"] == "confirmation_required"
    assert (await client.get(f"/watchlists/{watchlist['id']}")).json()["version"] == 2


async def test_an_oversized_file_is_refused(stack):
    client = stack.client("kyc", stack.token(), kyc_watchlist_max_bytes=1000)
    watchlist = await new_watchlist(client)

    response = await upload(client, watchlist["id"], UN_LIST)

    assert response.status_code == 413 and response.json()["code"] == "file_too_large"


async def test_imports_need_the_admin_role_and_another_organisation_sees_nothing(stack):
    admin = stack.client("kyc", stack.token())
    watchlist = await new_watchlist(admin)
    analyst = stack.client("kyc", stack.token(roles=("analyst",)))
    stranger = stack.client("kyc", stack.token(org="org-b"))

    assert (await upload(analyst, watchlist["id"], UN_LIST)).status_code == 403
    assert (await upload(stranger, watchlist["id"], UN_LIST)).status_code == 404
    assert (await stranger.get(f"/watchlists/{watchlist['id']}")).status_code == 404
    assert (await stranger.get("/watchlists")).json() == []
    assert (await analyst.get("/watchlists")).json()[0]["id"] == watchlist["id"]


async def test_a_second_list_with_the_same_name_is_a_conflict(stack):
    client = stack.client("kyc", stack.token())
    await new_watchlist(client)

    response = await client.post("/watchlists", json={"name": "UN SC consolidated", "format": "un_xml"})

    assert response.status_code == 409 and response.json()["code"] == "duplicate_watchlist"


def test_the_api_offers_exactly_the_formats_the_engine_parses():
    assert set(get_args(ListFormat)) == set(FORMATS)
