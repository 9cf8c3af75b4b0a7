"""Per-test access to the services under test: settings, engines, sessions, HTTP clients, tokens."""

from __future__ import annotations

import importlib
import os
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common.auth import issue_token
from libs.common.db import make_engine, make_sessions
from libs.common.settings import ServiceSettings
from libs.common.tables import PlatformTable

TEST_JWT_SECRET = "test-secret-for-the-suite-only-0123456789"
KEEP = {"alembic_version", "outbox_lease"}


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    return getattr(module, f"{service.capitalize()}Settings")


class Stack:
    def __init__(self, database_urls: dict[str, str], *, bootstrap: str, s3_endpoint: str) -> None:
        self.database_urls, self.bootstrap, self.s3_endpoint = database_urls, bootstrap, s3_endpoint
        self.engines: dict[str, AsyncEngine] = {}
        self.clients: list[httpx.AsyncClient] = []

    def settings(self, service: str, **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = dict(
            database_url=self.database_urls[service],
            kafka_bootstrap_servers=self.bootstrap,
            s3_endpoint=self.s3_endpoint,
            s3_access_key=os.environ.get("S3_ACCESS_KEY", "testing"),
            s3_secret_key=os.environ.get("S3_SECRET_KEY", "testing"),
            jwt_secret=TEST_JWT_SECRET,
            consumer_retry_backoff_seconds=0.01,
            relay_idle_seconds=0.01,
            # The suite's own Tansu runs in memory and forgets its log on restart; an external broker does not.
            kafka_broker_forgets=not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
            broker_epoch_check_seconds=0.5,
            outage_backoff_max_seconds=2.0,
            worker_port=0,
            scheduler_interval_seconds=0.2,
            # KYC: tests start from an empty risk table; those of the shipped default turn it on.
            kyc_default_risk_table=False,
        )
        values.update(overrides)
        return settings_class(service)(**values)

    def engine(self, service: str) -> AsyncEngine:
        if service not in self.engines:
            self.engines[service] = make_engine(self.database_urls[service], pool_size=5)
        return self.engines[service]

    def sessions(self, service: str) -> async_sessionmaker[AsyncSession]:
        return make_sessions(self.engine(service))

    def app(self, service: str, **overrides: Any):  # type: ignore[no-untyped-def]
        main = importlib.import_module(f"services.{service}.main")
        return main.create_app(self.settings(service, **overrides), engine=self.engine(service))

    def client(self, service: str, token: str | None = None, **overrides: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app(service, **overrides)), base_url="http://test", headers=headers
        )
        self.clients.append(client)
        return client

    def token(
        self, *, org: str = "org-a", kind: str = "operator", roles: tuple[str, ...] = ("admin",), user: str = "alice"
    ) -> str:
        return issue_token(self.settings("kyc"), user_id=user, org_id=org, org_kind=kind, roles=list(roles))

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()
        for service, engine in self.engines.items():
            await truncate_all(engine, service)
            await engine.dispose()


async def truncate_all(engine: AsyncEngine, service: str) -> None:
    tables_module = importlib.import_module(f"services.{service}.tables")
    service_meta = getattr(tables_module, f"{service.capitalize()}Table").metadata
    names = [
        t.name for meta in (PlatformTable.metadata, service_meta) for t in meta.sorted_tables if t.name not in KEEP
    ]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(sa.text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(names):
                await conn.execute(sa.text(f"DELETE FROM {name}"))
