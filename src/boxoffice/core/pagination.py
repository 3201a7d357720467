"""Cursor pagination over ULID ids: newest first, the cursor is the last id of the page.

A cursor the server could not have issued (too long, odd characters, a number past 64 bits) is
400 `E_VALIDATION` at the edge, never a query the database chokes on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from boxoffice.core.db import Document

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200).")]
#: Ids and the ids derived from them (`<event_id>:<webhook_id>`): letters, digits and `._:-`.
CURSOR_PATTERN = r"^[0-9A-Za-z._:-]+$"
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=CURSOR_PATTERN,
        description="`next_cursor` of the previous page.",
    ),
]
#: The largest integer MongoDB stores (int64): a bigger cursor would overflow in the driver.
MAX_SEQ = 2**63 - 1
#: A position in a numbered sequence (the audit chain's `seq`).
SeqCursor = Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="`next_cursor` of the previous page.")]


def page_filter(id_field: str, cursor: str | None) -> dict[str, Any]:
    return {id_field: {"$lt": cursor}} if cursor else {}


def page_of(docs: list[Document], id_field: str, limit: int) -> tuple[list[Document], str | None]:
    """`docs` was fetched with limit + 1: the extra one tells whether another page exists."""
    if len(docs) > limit:
        docs = docs[:limit]
        return docs, str(docs[-1][id_field])
    return docs, None
