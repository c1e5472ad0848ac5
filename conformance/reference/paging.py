"""List parameters and pages (contract section 2): `limit`, `page`, `status`, `createdAt[from]`,
`createdAt[to]`, the page tokens and the `page` object, as the profile's Behaviour says."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from starlette.datastructures import QueryParams

from conformance import schemas
from conformance.reference.answers import ApiError
from conformance.reference.clock import parse_time
from conformance.reference.profile import Behaviour

MAX_LIMIT = 250
PAGE_PREFIX = "pg1:"
FILTERS = ("status", "createdAt[from]", "createdAt[to]")
PAGINATION = ("limit", "page")
T = TypeVar("T")


@dataclass(frozen=True)
class ListQuery:
    """Validated list parameters (contract section 2)."""

    limit: int | None = None
    offset: int = 0
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def encode_page(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{PAGE_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_page(token: str) -> int:
    """The offset inside a base64url page token; a token this server did not make → 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    digits = text.removeprefix(PAGE_PREFIX)
    if not text.startswith(PAGE_PREFIX) or not digits.isdigit() or len(digits) > 9:
        raise ApiError("INVALID_REQUEST", "page is not a token this server issued")
    return int(digits)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


class Pager:
    """Makes and reads one platform's page tokens: base64url of the offset (the default), or
    random standard-base64 strings with `+`, `/` and `=` mapped to offsets server-side."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._issued: dict[str, int] = {}

    def token(self, offset: int) -> str:
        if self.behaviour.page_tokens == "base64url":
            return encode_page(offset)
        while True:  # 22 bytes: 32 characters ending in "=="; retry until + and / are in it
            token = base64.b64encode(secrets.token_bytes(22)).decode("ascii")
            if "+" in token and "/" in token and token not in self._issued:
                self._issued[token] = offset
                return token

    def offset(self, token: str) -> int:
        if self.behaviour.page_tokens == "base64url":
            return decode_page(token)
        if token not in self._issued:
            raise ApiError("INVALID_REQUEST", "page is not a token this server issued")
        return self._issued[token]

    def page(self, items: list[T], query: ListQuery) -> Page[T]:
        """One page of `items` (already filtered and sorted) and the token of the next."""
        b = self.behaviour
        limit = query.limit or ((len(items) or 1) if b.pagination_rejected else b.default_limit)
        start = query.offset
        chunk = items[start : start + limit]
        end = start + len(chunk)
        return Page(chunk, self.token(end) if end < len(items) else None)

    def orders_page(self, items: list[T], query: ListQuery) -> Page[T]:
        """listOrders pages by 50 whatever the profile's default (discovery, not scored)."""
        if query.limit is None and not self.behaviour.pagination_rejected:
            query = ListQuery(limit=50, offset=query.offset)
        return self.page(items, query)

    def body(self, key: str, items: list[Any], next_token: str | None) -> dict[str, Any]:
        """A list's success body: `page` with the next token, or on the last page
        `{"next": null}`, or no `page` at all (no-page-on-last, required-only, no pagination)."""
        body: dict[str, Any] = {"success": True, key: items}
        b = self.behaviour
        bare_last = b.last_page == "no-page" or b.fields == "required" or b.pagination_rejected
        if next_token is not None or not bare_last:
            body["page"] = {"next": next_token}
        return body


def list_query(q: QueryParams, pager: Pager, *, with_filters: bool) -> ListQuery:
    """Validate `limit`, `page`, `status`, `createdAt[from]`, `createdAt[to]` (contract §2)."""
    b = pager.behaviour
    if b.pagination_rejected and (found := [k for k in PAGINATION if k in q]):
        raise ApiError("INVALID_REQUEST", f"this platform does not paginate: {found[0]!r}")
    if with_filters and b.filters_rejected and (found := [k for k in FILTERS if k in q]):
        raise ApiError("INVALID_REQUEST", f"this platform cannot filter by {found[0]!r}")
    limit = None
    if "limit" in q:
        raw = q["limit"]
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError("INVALID_REQUEST", f"limit must be an integer from 1 to {MAX_LIMIT}")
        limit = int(raw)
    offset = pager.offset(q["page"]) if "page" in q else 0
    if not with_filters:
        return ListQuery(limit=limit, offset=offset)
    bounds = []
    for key in ("createdAt[from]", "createdAt[to]"):
        value = q.get(key)
        if value is not None and not schemas.FORMAT_CHECKER.conforms(value, "date-time"):
            raise ApiError("INVALID_REQUEST", f"{key} must be an RFC 3339 date-time")
        bounds.append(parse_time(value) if value is not None else None)
    return ListQuery(
        limit=limit,
        offset=offset,
        status=q.get("status"),
        created_from=bounds[0],
        created_to=bounds[1],
    )
