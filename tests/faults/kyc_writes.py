"""Writes through the real KYC API over HTTP: actors taken to approved (four eyes), then suspend / reinstate."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from libs.common.auth import issue_token
from libs.common.settings import ServiceSettings
from tests.faults.figures import Writes
from tests.kyc.register_support import actor_body
from tests.support.stack import TEST_JWT_SECRET

ORG = "org-faults"
SETUP_TIMEOUT = 60.0


class KycWriter:
    """One creator (alice) and one reviewer (bob) of the same operator; counts every answer in `writes`."""

    def __init__(self, base_url: str, *, writes: Writes | None = None) -> None:
        settings = ServiceSettings(jwt_secret=TEST_JWT_SECRET)
        self.headers = {
            user: {
                "Authorization": "Bearer "
                + issue_token(settings, user_id=user, org_id=ORG, org_kind="operator", roles=["analyst"])
            }
            for user in ("alice", "bob")
        }
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, connect=2.0))
        self.writes = writes or Writes()
        self.status: dict[str, str | None] = {}  # what the API last told us; None once an answer went missing

    async def close(self) -> None:
        await self.http.aclose()

    async def _post(self, user: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response | None:
        try:
            return await self.http.post(path, json=body or {}, headers=self.headers[user])
        except httpx.HTTPError:  # the API process is dead or cut the connection: no answer
            return None

    async def _move(
        self, user: str, actor: str, action: str, body: dict[str, Any] | None = None
    ) -> httpx.Response | None:
        """A workflow move as a client makes it: the actor read, then the move sent with the version read (no answer
        to either: None, and the move may not have been sent)."""
        try:
            read = await self.http.get(f"/actors/{actor}", headers=self.headers[user])
        except httpx.HTTPError:
            return None
        if read.status_code != 200:
            return read
        return await self._post(user, f"/actors/{actor}/{action}", {**(body or {}), "version": read.json()["version"]})

    async def approved_actors(self, count: int, *, label: str = "A", parallel: int = 6) -> list[str]:
        """`count` actors registered by alice and approved by bob (screening, run by the KYC worker, must be done)."""
        gate = asyncio.Semaphore(parallel)

        async def one(i: int) -> str:
            async with gate:
                return await self.approved_actor(f"{label}{i:04d}")

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    async def approved_actor(self, tag: str) -> str:
        body = actor_body(
            legal_name=f"Comptoir Minier {tag} SARL",
            registration_number=f"CD/GOM/RCCM/{tag}",
            aliases=[],
            tax_number=f"T-{tag}",
        )
        created = await self._post("alice", "/actors", body)
        assert created is not None and created.status_code == 201, _text(created)
        actor = created.json()["id"]
        self.writes.acknowledged["create"] += 1
        for user, move in (("alice", "submit"), ("bob", "start-review")):
            answer = await self._move(user, actor, move)
            assert answer is not None and answer.status_code == 200, _text(answer)
        deadline = time.monotonic() + SETUP_TIMEOUT
        while True:
            answer = await self._move("bob", actor, "approve")
            if answer is not None and answer.status_code == 200:
                break
            waiting = (
                answer is not None and answer.status_code == 409 and answer.json().get("code") == "screening_pending"
            )
            assert waiting and time.monotonic() < deadline, f"approve {actor}: {_text(answer)}"
            await asyncio.sleep(0.2)  # the KYC worker's screening job runs every 0.5 s
        self.writes.acknowledged["approve"] += 1
        self.status[actor] = "approved"
        return actor

    async def move(self, actor: str, action: str, *, reason: str = "fault test") -> bool:
        """suspend or reinstate; True when the API acknowledged it (2xx)."""
        answer = await self._move("bob", actor, action, {"reason": reason})
        if answer is None or answer.status_code >= 500:
            self.writes.unacknowledged += 1
            self.status[actor] = None
            return False
        if answer.is_success:
            self.writes.acknowledged[action] += 1
            self.status[actor] = answer.json()["kyc_status"]
            return True
        self.writes.refused[_code(answer)] += 1
        self.status[actor] = None  # e.g. an earlier unanswered write did commit: ask before the next move
        return False

    async def toggle(self, actor: str) -> bool:
        """Suspend an approved actor, reinstate a suspended one."""
        status = self.status.get(actor)
        if status is None:
            status = await self.current_status(actor)
            if status is None:
                return False
        return await self.move(actor, "suspend" if status == "approved" else "reinstate")

    async def current_status(self, actor: str) -> str | None:
        try:
            answer = await self.http.get(f"/actors/{actor}", headers=self.headers["bob"])
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        self.status[actor] = answer.json()["kyc_status"]
        return self.status[actor]

    async def stream(self, actors: list[str], stop: asyncio.Event, *, rng: random.Random, pause: float = 0.05) -> None:
        """Suspend / reinstate random actors of `actors` until `stop`; `pause` paces the stream (not a wait)."""
        while not stop.is_set():
            if not await self.toggle(rng.choice(actors)):
                await asyncio.sleep(0.2)  # the API is down or was restarted: don't spin
            await asyncio.sleep(pause)


def _code(answer: httpx.Response) -> str:
    try:
        return f"{answer.status_code}:{answer.json().get('code')}"
    except ValueError:
        return str(answer.status_code)


def _text(answer: httpx.Response | None) -> str:
    return "no answer" if answer is None else f"{answer.status_code} {answer.text[:300]}"
