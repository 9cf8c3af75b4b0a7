"""Partner webhooks' rules: filters, disclosure tiers and their projections, the retry schedule, webhook ids."""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from libs.common.events.incidents import IncidentEvent, IncidentState

TIERS = ("member", "public")
# The public tier sees only verified outcomes: events of incidents in these states.
PUBLIC_STATUSES = frozenset({"verified", "resolved", "closed"})
ID_FILTERS = ("actor_ids", "site_ids", "lot_ids")
VALUE_FILTERS = ("countries", "regions", "minerals", "categories", "levels")


@dataclass(frozen=True)
class Filters:
    """Empty lists match everything; a non-empty list must contain the incident's value (or one of its ids)."""

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    minerals: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    levels: tuple[int, ...] = ()
    actor_ids: tuple[UUID, ...] = ()
    site_ids: tuple[UUID, ...] = ()
    lot_ids: tuple[UUID, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Filters:
        return cls(
            countries=tuple(data.get("countries", ())),
            regions=tuple(data.get("regions", ())),
            minerals=tuple(data.get("minerals", ())),
            categories=tuple(data.get("categories", ())),
            levels=tuple(int(v) for v in data.get("levels", ())),
            actor_ids=tuple(UUID(str(v)) for v in data.get("actor_ids", ())),
            site_ids=tuple(UUID(str(v)) for v in data.get("site_ids", ())),
            lot_ids=tuple(UUID(str(v)) for v in data.get("lot_ids", ())),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: list(getattr(self, name)) for name in VALUE_FILTERS}
        out.update({name: [str(v) for v in getattr(self, name)] for name in ID_FILTERS})
        return out

    def has_ids(self) -> bool:
        return bool(self.actor_ids or self.site_ids or self.lot_ids)

    def matches(self, incident: IncidentState) -> bool:
        checks: list[tuple[Sequence[Any], Any]] = [
            (self.countries, incident.country),
            (self.regions, incident.region),
            (self.minerals, incident.mineral),
            (self.categories, incident.category),
            (self.levels, incident.level),
        ]
        for wanted, value in checks:
            if wanted and value not in wanted:
                return False
        for wanted_ids, ids in (
            (self.actor_ids, incident.actor_ids),
            (self.site_ids, incident.site_ids),
            (self.lot_ids, incident.lot_ids),
        ):
            if wanted_ids and not set(wanted_ids).intersection(ids):
                return False
        return True


def event_name(event: IncidentEvent) -> str:
    """`incident.verified` for IncidentVerified, `incident.mitigation_planned` for MitigationPlanned, ..."""
    name = type(event).__name__
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return "incident." + snake.removeprefix("incident_")


def member_projection(event: IncidentEvent) -> dict[str, Any]:
    """All of the incident as it happens. The state never carries a whistle-blower's identity or contact."""
    extra = event.model_dump(mode="json", exclude={"org_id", "incident_id", "aggregate_version", "incident"})
    return {
        "incident": event.incident.model_dump(mode="json"),
        "aggregate_version": event.aggregate_version,
        "details": extra,
    }


PUBLIC_FIELDS = (
    "incident_id",
    "reference",
    "category",
    "category_group",
    "level",
    "required_response",
    "status",
    "country",
    "region",
    "mineral",
    "occurred_on",
    "outcome",
    "updated_at",
)


def public_projection(event: IncidentEvent) -> dict[str, Any] | None:
    """A verified outcome, redacted: codes, place at country/region level, the outcome; never a title, free-text
    summary, place, cause, source or the ids of actors, sites or lots. None: the public tier does not see it."""
    incident = event.incident
    if incident.status not in PUBLIC_STATUSES:
        return None
    state = incident.model_dump(mode="json")
    public = {name: state[name] for name in PUBLIC_FIELDS}
    public["summary"] = f"{incident.category} ({incident.status})"
    return {"incident": public, "aggregate_version": event.aggregate_version}


def projection(tier: str, event: IncidentEvent) -> dict[str, Any] | None:
    return member_projection(event) if tier == "member" else public_projection(event)


def event_key(event: IncidentEvent) -> str:
    return f"{event.incident_id}:{event.aggregate_version}"


def delivery_id(subscription_id: UUID, key: str) -> UUID:
    """Stable per (subscription, event): a redelivered event or a replay gives the same id."""
    return uuid5(subscription_id, key)


def webhook_id(delivery: UUID) -> str:
    return f"msg_{delivery.hex}"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def next_attempt(schedule: Sequence[float], attempts: int, now: datetime) -> datetime | None:
    """After `attempts` failed attempts: when to try again, or None when the schedule is exhausted."""
    if attempts > len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts - 1])


def address_refused(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved or unspecified (also as IPv4-mapped IPv6)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )
