"""Every query on signing secrets (platform-wide material, under tenant_id "platform"), refunds,
reprints and redemptions (tickets themselves live with sales)."""

from __future__ import annotations

from boxoffice.core.db import C
from boxoffice.core.repository import ScopedRepository

PLATFORM = "platform"


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
