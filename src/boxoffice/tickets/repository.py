"""Every query on tickets, signing secrets (platform-wide material, under tenant_id "platform"),
refunds, reprints, redemptions and offline incidents."""

from __future__ import annotations

from boxoffice.core.db import C
from boxoffice.core.repository import ScopedRepository

PLATFORM = "platform"


class TicketRepository(ScopedRepository):
    collection_name = C.TICKETS


class SecretRepository(ScopedRepository):
    collection_name = C.SECRETS
    store_scoped = False


class RefundRepository(ScopedRepository):
    collection_name = C.REFUNDS


class ReprintRepository(ScopedRepository):
    collection_name = C.REPRINTS


class RedemptionRepository(ScopedRepository):
    collection_name = C.REDEMPTIONS


class IncidentRepository(ScopedRepository):
    collection_name = C.INCIDENTS
