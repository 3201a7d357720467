"""Cursor pagination over ULID ids: newest first, the cursor is the last id of the page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from boxoffice.core.db import Document

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200).")]
Cursor = Annotated[str | None, Query(max_length=64, description="`next_cursor` of the previous page.")]


def page_filter(id_field: str, cursor: str | None) -> dict[str, Any]:
    return {id_field: {"$lt": cursor}} if cursor else {}


def page_of(docs: list[Document], id_field: str, limit: int) -> tuple[list[Document], str | None]:
    """`docs` was fetched with limit + 1: the extra one tells whether another page exists."""
    if len(docs) > limit:
        docs = docs[:limit]
        return docs, str(docs[-1][id_field])
    return docs, None
