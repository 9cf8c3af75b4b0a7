"""A lot's proof downloaded and verified offline by the CLI; the same proof failing after the database is altered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.traceability.proofs import signing
from services.traceability.repository import custody_log

ROOT = Path(__file__).resolve().parents[2]


async def append(stack, kind: str, lots: list[tuple[UUID, str]], org: str = "org-a") -> None:  # type: ignore[no-untyped-def]
    async with stack.sessions("traceability")() as db, db.begin():
        content = {"lots": [{"lot_id": str(lot), "role": role} for lot, role in lots], "mass_kg": "12.5"}
        await custody_log.append_event(db, org_id=org, event_id=uuid4(), kind=kind, content=content, lots=lots)


async def season(stack) -> dict[str, UUID]:  # type: ignore[no-untyped-def]
    """Two lots created at mines, merged into a third at an exporter, which is then shipped; plus unrelated noise."""
    a, b, merged, other = uuid4(), uuid4(), uuid4(), uuid4()
    await append(stack, "creation", [(a, "subject")])
    await append(stack, "creation", [(other, "subject")])
    await append(stack, "creation", [(b, "subject")])
    await append(stack, "transfer_initiated", [(a, "subject")])
    await append(stack, "transfer_confirmed", [(a, "subject")])
    await append(stack, "transformation", [(a, "input"), (b, "input"), (merged, "output")])
    await append(stack, "export", [(merged, "subject")])
    return {"a": a, "b": b, "merged": merged, "other": other}


def verify(tmp_path: Path, bundle: dict[str, Any], *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"bundle-{uuid4()}.json"
    path.write_text(json.dumps(bundle))
    command = [sys.executable, "-m", "services.traceability.proofs", "verify", str(path), *extra]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=60)


async def download(client, lot_id: UUID, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.get(f"/lots/{lot_id}/proof", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_downloaded_proof_verifies_offline_with_the_published_key(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    key = (await client.get("/proof-key")).json()
    (tmp_path / "key.pem").write_text(key["public_key"])

    bundle = await download(client, lots["merged"])
    result = verify(tmp_path, bundle, "--key", str(tmp_path / "key.pem"))

    assert result.returncode == 0, result.stderr
    assert "OK: 6 events" in result.stdout  # the merge's lineage, not the unrelated lot
    assert sorted(bundle["lots"]) == sorted(str(lots[n]) for n in ("a", "b", "merged"))


async def test_a_body_altered_in_the_database_fails_verification(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    async with stack.sessions("traceability")() as db, db.begin():
        await db.execute(sa.text("UPDATE custody_event SET body = replace(body, '12.5', '99.5') WHERE seq = 2"))

    result = verify(tmp_path, await download(client, lots["merged"]))

    assert result.returncode == 1
    assert "position 2: its body was changed" in result.stderr


async def test_a_body_rewritten_with_its_hash_fails_against_the_signed_root(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    await download(client, lots["merged"])  # a checkpoint is signed over the honest log
    async with stack.sessions("traceability")() as db, db.begin():
        row = (await db.execute(sa.text("SELECT body FROM custody_event WHERE seq = 0"))).one()
        body = row.body.replace("12.5", "99.5")
        digest = signing.hashlib.sha256(body.encode()).hexdigest()
        await db.execute(
            sa.text("UPDATE custody_event SET body = :b, hash = :h WHERE seq = 0"), {"b": body, "h": digest}
        )

    result = verify(tmp_path, await download(client, lots["merged"]))

    assert result.returncode == 1
    assert "not in the signed log" in result.stderr


async def test_a_deleted_event_fails_verification(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    await download(client, lots["merged"])
    async with stack.sessions("traceability")() as db, db.begin():
        await db.execute(
            sa.text(
                "DELETE FROM custody_event_lot WHERE event_id IN (SELECT event_id FROM custody_event WHERE seq = 1)"
            )
        )
        await db.execute(sa.text("DELETE FROM custody_event WHERE seq = 1"))

    result = verify(tmp_path, await download(client, lots["merged"]))

    assert result.returncode == 1
    assert "not in the signed log" in result.stderr


async def test_reordered_events_fail_verification(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    async with stack.sessions("traceability")() as db, db.begin():
        await db.execute(sa.text("UPDATE custody_event SET seq = -1 WHERE seq = 3"))
        await db.execute(sa.text("UPDATE custody_event SET seq = 3 WHERE seq = 4"))
        await db.execute(sa.text("UPDATE custody_event SET seq = 4 WHERE seq = -1"))

    result = verify(tmp_path, await download(client, lots["merged"]))

    assert result.returncode == 1
    assert "reordered" in result.stderr


async def test_two_checkpoints_are_consistent_and_the_cli_checks_a_saved_one(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    first = (await download(client, lots["merged"]))["checkpoint"]
    (tmp_path / "older.json").write_text(json.dumps(first))
    await append(stack, "receipt", [(lots["merged"], "subject")])

    bundle = await download(client, lots["merged"], since=first["tree_size"])
    result = verify(tmp_path, bundle, "--checkpoint", str(tmp_path / "older.json"))
    consistency = await client.get("/checkpoints/consistency", params={"first": 7, "second": 8})
    listed = (await client.get("/checkpoints")).json()

    assert result.returncode == 0, result.stderr
    assert consistency.status_code == 200
    assert [c["tree_size"] for c in listed] == [8, 7]
    assert (await client.get("/checkpoints/latest")).json()["tree_size"] == 8


async def test_a_forged_checkpoint_is_detected(stack, tmp_path):
    lots = await season(stack)
    client = stack.client("traceability", stack.token())
    bundle = await download(client, lots["merged"])
    (tmp_path / "key.pem").write_text(bundle["public_key"])
    facts = json.loads(bundle["checkpoint"]["statement"])
    forger = Ed25519PrivateKey.generate()
    forged_text = signing.statement(
        org_id=facts["org_id"], tree_size=facts["tree_size"], root_hash="ab" * 32, timestamp=facts["timestamp"],
        key=facts["key_id"],
    )  # fmt: skip
    resigned = {
        **bundle,
        "checkpoint": {"statement": forged_text, "signature": forger.sign(forged_text.encode()).hex()},
    }
    tampered = {**bundle, "checkpoint": {**bundle["checkpoint"], "statement": forged_text}}

    for forged in (resigned, tampered):
        result = verify(tmp_path, forged, "--key", str(tmp_path / "key.pem"))
        assert result.returncode == 1
        assert "signature does not verify" in result.stderr


async def test_another_organisations_lot_answers_404_and_a_token_is_required(stack):
    lots = await season(stack)
    stranger = stack.client("traceability", stack.token(org="org-b"))
    anonymous = stack.client("traceability")

    response = await stranger.get(f"/lots/{lots['merged']}/proof")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await anonymous.get("/proof-key")).status_code == 401
    assert (await stranger.get("/checkpoints/latest")).status_code == 404
    owner = stack.client("traceability", stack.token())
    beyond = await owner.get(f"/lots/{lots['merged']}/proof", params={"since": 999})
    unknown = await owner.get("/checkpoints/consistency", params={"first": 3, "second": 7})
    huge = await owner.get("/checkpoints/consistency", params={"first": 2**63, "second": 7})
    assert (beyond.status_code, beyond.json()["code"]) == (404, "checkpoint_not_found")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "checkpoint_not_found")
    assert huge.status_code == 422


async def test_the_worker_job_signs_a_checkpoint_only_when_the_log_grew(stack):
    from libs.common import scheduler
    from services.traceability.main import SERVICE

    lots = await season(stack)
    jobs = [j for j in SERVICE.jobs(stack.settings("traceability")) if j.name == "traceability.checkpoint"]
    sessions = stack.sessions("traceability")

    first = await scheduler.run_due(sessions, jobs, force=True)
    again = await scheduler.run_due(sessions, jobs, force=True)
    await append(stack, "receipt", [(lots["merged"], "subject")])
    grown = await scheduler.run_due(sessions, jobs, force=True)
    listed = (await stack.client("traceability", stack.token()).get("/checkpoints")).json()

    assert (first, again, grown) == (
        {"traceability.checkpoint": 1},
        {"traceability.checkpoint": 0},
        {"traceability.checkpoint": 1},
    )
    assert [c["tree_size"] for c in listed] == [8, 7]
