"""What KYC tells the others: the events a domain method returned, numbered and staged in the outbox with the save
of the aggregate they are keyed by, in the caller's transaction. The one place KYC events get their number.

A save takes one number per event (the aggregate's `event_seq`, under the row lock the save holds to commit), so
numbers grow strictly per key in commit order; the aggregate was read locked, so the state an event carries is
the state that commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import outbox
from libs.common.db import Executor
from libs.common.events.kyc import DocumentUploaded, KycEvent
from services.kyc.domain.actors import Actor
from services.kyc.domain.documents import Document
from services.kyc.domain.sites import MineSite
from services.kyc.repository import actors as actor_repository
from services.kyc.repository import sites as site_repository

Outbox = outbox.Outbox


async def save_actor(db: AsyncSession, actor: Actor, *events: KycEvent) -> None:
    """Write the actor and stage its events, each numbered in the order given."""
    last = await actor_repository.save_actor(db, actor, events=len(events))
    publish(db, events, key=actor.id, last=last)


async def register_actor(
    db: Executor, actor: Actor, event: KycEvent, *, beside: Sequence[tuple[sa.Table, dict[str, Any]]] = ()
) -> None:
    """Write a new actor and stage its registration, the first event of a new aggregate (number 1), with the rows
    that come with it, in one statement (repository.actors.insert_actor): on a DbStatement connection it has
    committed when this returns, and the relays are woken now; in a session, with its commit."""
    message = outbox.message_values(event.model_copy(update={"aggregate_version": 1}), key=actor.id)
    await actor_repository.insert_actor(db, actor, events=1, beside=[*beside, (Outbox, message)])
    if isinstance(db, AsyncSession):
        outbox.wake_on_commit(db)
    else:
        await outbox.wake(db)


async def save_site(db: AsyncSession, site: MineSite, *events: KycEvent) -> None:
    """Write the site (with its new status decisions) and stage its events, each numbered in the order given."""
    last = await site_repository.save_site(db, site, events=len(events))
    publish(db, events, key=site.id, last=last)


async def document_uploaded(db: AsyncSession, document: Document, event: DocumentUploaded) -> None:
    """Keyed by the document's actor, else its site, else itself; the number is that aggregate's."""
    if document.actor_id is not None:
        key, last = document.actor_id, await actor_repository.take_event_numbers(db, document.actor_id)
    elif document.site_id is not None:
        key, last = document.site_id, await site_repository.take_event_numbers(db, document.site_id)
    else:
        key, last = document.id, 1  # a document on its own is its key, and its upload the only event it has
    publish(db, [event], key=key, last=last)


def publish(db: AsyncSession, events: Sequence[KycEvent], *, key: UUID, last: int) -> None:
    """Stage `events` of one aggregate numbered up to `last`, the number its save took for the last of them."""
    first = last - len(events) + 1
    for number, event in enumerate(events, start=first):
        outbox.add(db, event.model_copy(update={"aggregate_version": number}), key=key)
