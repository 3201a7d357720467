"""Every query on the `secrets` collection (platform-wide material, under tenant_id "platform")."""

from __future__ import annotations

from boxoffice.core.db import C
from boxoffice.core.repository import ScopedRepository

PLATFORM = "platform"


class SecretRepository(ScopedRepository):
    collection_name = C.SECRETS
    store_scoped = False
