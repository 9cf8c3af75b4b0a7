"""Free text with a NUL byte or another control character is a 422 problem (PostgreSQL refuses NUL in text: it was a
500 from the database, found by schemathesis on a batch's idempotency key)."""

from __future__ import annotations

from uuid import uuid4

from tests.traceability.support import ORG


async def test_control_characters_in_any_text_field_are_refused_before_the_database(stack):
    staff = stack.client("traceability", stack.token(org=ORG))
    lot = {"tag": "T-1", "mineral": "tin", "form": "ore", "mass": 1, "unit": "KGM", "site_id": str(uuid4()),
           "producer_actor_id": str(uuid4())}  # fmt: skip
    transfer = {"from_actor_id": str(uuid4()), "to_actor_id": str(uuid4())}
    sent = [
        await staff.post("/custody/batches", json={"items": [
            {"action": "transfer", "idempotency_key": "k\x00", "lot_id": str(uuid4()), **transfer}]}),
        await staff.post("/lots", json={**lot, "form": "ore\x00"}),
        await staff.post("/lots", json={**lot, "place": "Nyabibwe\x07"}),
        await staff.post("/lots", json={**lot, "unit": "KG\x00"}),
        await staff.post("/custody-events/corrections", json={"corrects_event_id": str(uuid4()), "reason": "a\x00"}),
    ]  # fmt: skip
    public = await stack.client("traceability").get("/public/tags/T%00-1")

    for response in [*sent, public]:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
