"""The mixed workload of the system fault tests, through the real APIs over HTTP: KYC suspensions and site
inspections (consumed by traceability, incidents and scoring), incident reports walked to closed (consumed by
traceability and scoring). Every answer is counted: acknowledged, unanswered, refused."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import httpx

from libs.common.db import utcnow
from tests.faults.kyc_writes import ORG, KycWriter
from tests.faults.system_figures import Writes
from tests.support.system import System, token

NEXT_STEP = {"reported": "triage", "triage": "verify", "verified": "resolve", "resolved": "close"}
CLOSE_BODY = {"close": {"outcome": "fault test closed"}}


class SystemWriter:
    def __init__(self, system: System) -> None:
        self.kyc = KycWriter(system.api_url("kyc"))
        self.writes = Writes()
        timeout = httpx.Timeout(30.0, connect=10.0)  # the shared 2-core machine is slow at times
        self.kyc_http = httpx.AsyncClient(
            base_url=system.api_url("kyc"),
            timeout=timeout,
            headers={"Authorization": "Bearer " + token(org=ORG, user="carol", roles=("admin",))},
        )
        self.incidents_http = httpx.AsyncClient(
            base_url=system.api_url("incidents"),
            timeout=timeout,
            headers={"Authorization": "Bearer " + token(org=ORG, user="ines", roles=("analyst",))},
        )
        self.errors: Counter = Counter()  # unanswered requests, by exception
        self.incidents: dict[str, str | None] = {}  # id → status as last answered (None: unknown)
        system.cleanups += [self.kyc.close, self.kyc_http.aclose, self.incidents_http.aclose]

    def _count(self, kind: str, answer: httpx.Response | None) -> bool:
        if answer is None or answer.status_code >= 500:
            self.writes.unacknowledged[kind] += 1
            return False
        if answer.is_success:
            self.writes.acknowledged[kind] += 1
            return True
        try:
            code = answer.json().get("code")
        except ValueError:
            code = None
        self.writes.refused[f"{kind}:{answer.status_code}:{code}"] += 1
        return False

    async def _call(self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        try:
            return await http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # the API process is dead or cut the connection: no answer
            self.errors[type(exc).__name__] += 1
            return None

    # --- set-up (no faults yet: every write must be acknowledged) -------------------------------------------------

    async def sites(self, operators: list[str]) -> list[str]:
        sites = []
        for n, operator in enumerate(operators):
            body = {"name": f"Fault site {n}", "operator_actor_id": operator, "country": "CD", "region": "CD-SK",
                    "location": {"type": "Point", "coordinates": [28.93 + n / 500, -2.13 - n / 500]},
                    "minerals": ["2609"], "capacity_kg_per_month": 50000}  # fmt: skip
            answer = await self._call(self.kyc_http, "POST", "/sites", json=body)
            assert answer is not None and answer.status_code == 201, self.errors if answer is None else answer.text
            sites.append(str(answer.json()["id"]))
            assert await self.inspect(sites[-1], "green")
        return sites

    # --- the streams ----------------------------------------------------------------------------------------------

    async def inspect(self, site_id: str, result: str) -> bool:
        body = {"inspection_date": utcnow().date().isoformat(), "inspector": "J. Mukendi", "agency": "SAEMAPE",
                "result": result}  # fmt: skip
        return self._count(
            "inspect", await self._call(self.kyc_http, "POST", f"/sites/{site_id}/inspections", json=body)
        )

    async def report(self, site_id: str, actor_id: str) -> bool:
        body = {"category": "annex2.forced_labour", "title": "Forced labour seen", "summary": "fault test",
                "country": "CD", "region": "CD-SK", "mineral": "tin", "occurred_on": utcnow().date().isoformat(),
                "place": "Kalimbi", "site_ids": [site_id], "actor_ids": [actor_id]}  # fmt: skip
        answer = await self._call(self.incidents_http, "POST", "/incidents", json=body)
        if self._count("report", answer):
            assert answer is not None
            self.incidents[str(answer.json()["id"])] = "reported"
            return True
        return False

    async def step(self, incident_id: str) -> bool:
        status = self.incidents.get(incident_id)
        if status is None:  # an earlier step went unanswered: ask where it is
            read = await self._call(self.incidents_http, "GET", f"/incidents/{incident_id}")
            if read is None or read.status_code != 200:
                return False
            status = self.incidents[incident_id] = read.json()["status"]
        action = NEXT_STEP.get(status or "")
        if action is None:
            self.incidents.pop(incident_id, None)  # closed: done with it
            return True
        answer = await self._call(
            self.incidents_http, "POST", f"/incidents/{incident_id}/{action}", json=CLOSE_BODY.get(action)
        )
        if self._count(action, answer):
            assert answer is not None
            self.incidents[incident_id] = answer.json()["status"]
            return True
        self.incidents[incident_id] = None
        return False

    async def site_stream(self, sites: list[str], stop: asyncio.Event, rng: random.Random) -> None:
        red: set[str] = set()
        while not stop.is_set():
            site_id = rng.choice(sites)
            result = "green" if site_id in red else "red"
            if await self.inspect(site_id, result):
                red.symmetric_difference_update({site_id})
            else:
                await asyncio.sleep(0.2)  # the API is down: don't spin
            await asyncio.sleep(0.1)  # pacing, not a wait

    async def incident_stream(
        self, sites: list[str], actors: list[str], stop: asyncio.Event, rng: random.Random
    ) -> None:
        while not stop.is_set():
            open_ones = list(self.incidents)
            if len(open_ones) < 4 or rng.random() < 0.2:
                ok = await self.report(rng.choice(sites), rng.choice(actors))
            else:
                ok = await self.step(rng.choice(open_ones))
            if not ok:
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.1)
