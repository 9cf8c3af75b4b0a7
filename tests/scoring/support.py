"""Helpers for the scoring tests: clients by role and user, and an assessment walked through its states."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import uuid4

import yaml

SHIPPED = Path("services/scoring/frameworks")
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def client(stack: Any, role: str = "admin", *, user: str = "alice", org: str = "org-a") -> Any:
    return stack.client("scoring", stack.token(org=org, roles=(role,), user=user))


def requirement_ids(name: str = "craft-2.0.yaml") -> list[str]:
    return [str(r["id"]) for r in yaml.safe_load((SHIPPED / name).read_text())["requirements"]]


async def draft(http: Any, *, framework: str = "craft", subject_id: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {"framework": framework, "subject_type": "actor", "subject_id": subject_id or str(uuid4()), **extra}
    response = await http.post("/assessments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def answered(http: Any, assessment: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    body = {"version": assessment["version"], "answers": {k: {"answer": v} for k, v in answers.items()}}
    response = await http.patch(f"/assessments/{assessment['id']}/answers", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def submitted(http: Any, subject_id: str, answers: dict[str, str], **extra: Any) -> dict[str, Any]:
    assessment = await answered(http, await draft(http, subject_id=subject_id, **extra), answers)
    response = await http.post(f"/assessments/{assessment['id']}/submit", json={"version": assessment["version"]})
    assert response.status_code == 200, response.text
    return response.json()


def all_met(**overrides: str) -> dict[str, str]:
    return {**{i: "met" for i in requirement_ids()}, **overrides}
