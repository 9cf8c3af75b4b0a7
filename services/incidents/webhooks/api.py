"""HTTP routes of partner webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, Field

from libs.common.auth import Principal, Role, require_role
from libs.common.db import DbRead, DbTransaction
from libs.common.pagination import PageQuery
from libs.common.schemas import RequestBody
from services.incidents.settings import IncidentsSettings
from services.incidents.webhooks import domain, use_cases

router = APIRouter(tags=["webhooks"])
Manager = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.ANALYST))]  # a partner's or operator's staff
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "subscription_not_found: no such subscription in the caller's organisation"}
}
Code = Annotated[str, Field(min_length=1, max_length=100)]


def _settings(request: Request) -> IncidentsSettings:
    settings: IncidentsSettings = request.app.state.settings
    return settings


Settings = Annotated[IncidentsSettings, Depends(_settings)]


class FiltersBody(RequestBody):
    countries: list[Annotated[str, Field(min_length=2, max_length=2)]] = Field(default=[], max_length=300)
    regions: list[Code] = Field(default=[], max_length=300)
    minerals: list[Code] = Field(default=[], max_length=50)
    categories: list[Code] = Field(default=[], max_length=200)
    levels: list[Annotated[int, Field(ge=1, le=3)]] = Field(default=[], max_length=3)
    actor_ids: list[UUID] = Field(default=[], max_length=1000)
    site_ids: list[UUID] = Field(default=[], max_length=1000)
    lot_ids: list[UUID] = Field(default=[], max_length=1000)

    def to_domain(self) -> domain.Filters:
        return domain.Filters.from_json(self.model_dump(mode="json"))


class CreateSubscription(RequestBody):
    url: Annotated[str, Field(min_length=8, max_length=2000)]
    tier: Literal["member", "public"]
    filters: FiltersBody = FiltersBody()


class SubscriptionRead(BaseModel):
    id: UUID
    url: str
    tier: str
    filters: FiltersBody
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    secret_rotated_until: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> SubscriptionRead:
        return cls(
            id=row.id,
            url=row.url,
            tier=row.tier,
            filters=FiltersBody.model_validate(row.filters or {}),
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures,
            secret_rotated_until=row.previous_secret_until,
            created_at=row.created_at,
        )


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="the signing secret, shown only now (Standard Webhooks whsec_ form)")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionRead]
    total: int


class SecretRotated(BaseModel):
    secret: str = Field(description="the new signing secret, shown only now")
    previous_valid_until: datetime


class DeliveryRead(BaseModel):
    id: UUID
    webhook_id: str
    event_type: str
    incident_id: UUID
    aggregate_version: int
    occurred_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> DeliveryRead:
        return cls(
            id=row.id,
            webhook_id=domain.webhook_id(row.id),
            event_type=row.event_type,
            incident_id=row.incident_id,
            aggregate_version=row.aggregate_version,
            occurred_at=row.occurred_at,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: int


class Replay(RequestBody):
    since: AwareDatetime
    until: AwareDatetime


class Replayed(BaseModel):
    requeued: int


@router.post(
    "/webhooks/subscriptions",
    status_code=201,
    summary="Subscribe a partner endpoint to incident events (the secret is shown once)",
    responses={
        422: {"description": "invalid_url, url_not_https, blocked_address, unresolvable_host, filter_not_in_tier"}
    },
)
async def create_subscription(
    body: CreateSubscription, principal: Manager, db: DbTransaction, settings: Settings
) -> SubscriptionCreated:
    row = await use_cases.create_subscription(
        db,
        principal,
        url=body.url,
        tier=body.tier,
        filters=body.filters.to_domain(),
        allow_http=settings.webhooks_allow_http,
        allow_private=settings.webhooks_allow_private,
    )
    return SubscriptionCreated(**SubscriptionRead.from_row(row).model_dump(), secret=row.secret)


@router.get("/webhooks/subscriptions", summary="The organisation's webhook subscriptions")
async def list_subscriptions(principal: Manager, db: DbRead, page: PageQuery) -> SubscriptionPage:
    rows, total = await use_cases.list_subscriptions(db, principal, page)
    return SubscriptionPage(items=[SubscriptionRead.from_row(r) for r in rows], total=total)


@router.get("/webhooks/subscriptions/{subscription_id}", summary="A webhook subscription", responses=NOT_FOUND)
async def get_subscription(subscription_id: UUID, principal: Manager, db: DbRead) -> SubscriptionRead:
    return SubscriptionRead.from_row(await use_cases.get_subscription(db, principal, subscription_id))


@router.delete(
    "/webhooks/subscriptions/{subscription_id}",
    status_code=204,
    summary="Remove a subscription and its deliveries",
    responses=NOT_FOUND,
)
async def delete_subscription(subscription_id: UUID, principal: Manager, db: DbTransaction) -> None:
    await use_cases.delete_subscription(db, principal, subscription_id)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/secret",
    summary="Rotate the signing secret; the old one stays valid (both signatures sent) for a grace period",
    responses=NOT_FOUND,
)
async def rotate_secret(
    subscription_id: UUID, principal: Manager, db: DbTransaction, settings: Settings
) -> SecretRotated:
    grace = timedelta(seconds=settings.webhooks_secret_grace_seconds)
    secret, until = await use_cases.rotate_secret(db, principal, subscription_id, grace=grace)
    return SecretRotated(secret=secret, previous_valid_until=until)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/enable",
    summary="Enable a subscription again (e.g. one disabled after repeated failures); admins only",
    responses=NOT_FOUND,
)
async def enable_subscription(subscription_id: UUID, principal: Admin, db: DbTransaction) -> SubscriptionRead:
    return SubscriptionRead.from_row(await use_cases.set_enabled(db, principal, subscription_id, enabled=True))


@router.post(
    "/webhooks/subscriptions/{subscription_id}/disable",
    summary="Stop deliveries to a subscription",
    responses=NOT_FOUND,
)
async def disable_subscription(subscription_id: UUID, principal: Manager, db: DbTransaction) -> SubscriptionRead:
    return SubscriptionRead.from_row(await use_cases.set_enabled(db, principal, subscription_id, enabled=False))


@router.get(
    "/webhooks/subscriptions/{subscription_id}/deliveries",
    summary="A subscription's deliveries: status, attempts, last error",
    responses=NOT_FOUND,
)
async def list_deliveries(
    subscription_id: UUID,
    principal: Manager,
    db: DbRead,
    page: PageQuery,
    status: Literal["pending", "delivered", "failed"] | None = None,
) -> DeliveryPage:
    rows, total = await use_cases.list_deliveries(db, principal, subscription_id, page, status)
    return DeliveryPage(items=[DeliveryRead.from_row(r) for r in rows], total=total)


@router.post(
    "/webhooks/subscriptions/{subscription_id}/replay",
    summary="Send again the events of a time range, with the same webhook-ids",
    responses={**NOT_FOUND, 422: {"description": "range_out_of_order"}},
)
async def replay(subscription_id: UUID, body: Replay, principal: Manager, db: DbTransaction) -> Replayed:
    count = await use_cases.replay(db, principal, subscription_id, since=body.since, until=body.until)
    return Replayed(requeued=count)
