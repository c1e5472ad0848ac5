"""Answers rewritten on their way back: an httpx transport that wraps the real one and, for one
operation, rewrites every 2xx answer with one `Mutation` (another case, an unknown value, a wrong
type, a missing or null required field, extra fields, huge values, broken bytes, HTML pages,
empty bodies). Used by the fuzzed-answers property test and the upper-case-status test.

`BREAKS` says which mutations break the contract (section 2 and 3), so that the test may demand
"not supported" only where the contract does: an extra field or a huge value breaks nothing.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import httpx

from conformance.contract import OperationId, operations


class Mutation(StrEnum):
    enum_case = "enum_case"  # a status or reason in upper case (REQUESTED)
    enum_unknown = "enum_unknown"  # a status or reason the vocabulary does not know
    wrong_type = "wrong_type"  # a required field of a type its schema refuses
    missing = "missing"  # a required field left out
    null = "null"  # a required field null
    extra_fields = "extra_fields"  # every object carries fields no schema names
    huge_string = "huge_string"  # a string 200,000 characters long, markup and controls in it
    odd_string = "odd_string"  # a string with a lone surrogate, NUL, ESC, ]]> and markup
    huge_array = "huge_array"  # every array 2,000 times longer
    non_utf8 = "non_utf8"  # bytes that are not UTF-8 in the body
    truncated = "truncated"  # the body cut in half
    wrong_content_type = "wrong_content_type"  # text/html on a JSON body
    html_page = "html_page"  # the same status, an HTML page instead of JSON
    html_error = "html_error"  # 500 with an HTML error page
    empty_200 = "empty_200"  # 200 with no body at all
    odd_header = "odd_header"  # a header value with Latin-1, DEL and markup bytes


BREAKS = frozenset(
    {
        Mutation.enum_case,  # outside the vocabulary: partial at best
        Mutation.enum_unknown,
        Mutation.wrong_type,  # the response breaks its schema
        Mutation.missing,
        Mutation.null,
        Mutation.non_utf8,  # not JSON
        Mutation.truncated,
        Mutation.html_page,
        Mutation.html_error,  # a 5xx
        Mutation.empty_200,
    }
)
"""Mutations a contract-abiding answer cannot survive; the others may give any verdict."""

ENUM_KEYS = ("status", "returnReason")
# Required in the success bodies (contract section 3): the envelope's own keys, a Return's,
# a ReturnItem's, a ReturnFulfillment's and its tracking's.
REQUIRED = (
    "success",
    "return",
    "returns",
    "returnFulfillment",
    "returnFulfillments",
    "returnOrderId",
    "returnItems",
    "returnItemId",
    "quantity",
    "returnReason",
    "tracking",
    "number",
)
ODD = "<b>&amp;</b> ]]> \x00\x1b\x7f\ud800 é 漢 \u2028"
HTML = (
    b"<!DOCTYPE html><html><head><title>Bad Gateway</title></head><body><h1>Oops</h1></body></html>"
)


def _walk(value: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (object, key) in the body, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            yield value, key
            yield from _walk(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _required(owner: dict[str, Any], key: str) -> bool:
    if key in REQUIRED:
        return True
    if key == "status":  # a Return's status is required; a fulfillment's may be null
        return "returnOrderId" in owner and "returnItems" in owner
    return key == "id" and "tracking" in owner  # a ReturnFulfillment's id


def _wrong(value: Any) -> Any:
    """A value of a type the field's schema refuses."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "lots"  # a quantity: an integer or a digit string, never words
    if isinstance(value, str):
        return {"value": value}  # an object: not even hashable, as a string would be
    if isinstance(value, list):
        return {"items": value}
    return "an object was expected"


def mutate_json(body: Any, mutation: Mutation, pick: int) -> bool:
    """Apply a JSON-level mutation to `body` in place, at the `pick`-th place it fits (modulo
    how many there are). False when it fits nowhere (the answer is left as it was)."""
    if mutation == Mutation.extra_fields:
        objects = [owner for owner, _ in _walk(body)] + ([body] if isinstance(body, dict) else [])
        for owner in {id(o): o for o in objects}.values():
            owner.setdefault("x_fuzz", {"nested": [1, "two", None], "note": ODD})
        return bool(objects)
    places = [(o, k) for o, k in _walk(body)]
    if mutation in (Mutation.enum_case, Mutation.enum_unknown):
        places = [
            (o, k) for o, k in places if k in ENUM_KEYS and isinstance(o[k], str) and o[k].isalpha()
        ]
    elif mutation in (Mutation.wrong_type, Mutation.missing, Mutation.null):
        places = [(o, k) for o, k in places if _required(o, k) and o[k] is not None]
    elif mutation in (Mutation.huge_string, Mutation.odd_string):
        places = [(o, k) for o, k in places if isinstance(o[k], str)]
    elif mutation == Mutation.huge_array:
        places = [(o, k) for o, k in places if isinstance(o[k], list) and o[k]]
    if not places:
        return False
    owner, key = places[pick % len(places)]
    match mutation:
        case Mutation.enum_case:
            owner[key] = (
                owner[key].upper() if owner[key] != owner[key].upper() else owner[key].lower()
            )
        case Mutation.enum_unknown:
            owner[key] = f"platform_own_{owner[key]}"
        case Mutation.wrong_type:
            owner[key] = _wrong(owner[key])
        case Mutation.missing:
            del owner[key]
        case Mutation.null:
            owner[key] = None
        case Mutation.huge_string:
            owner[key] = (owner[key] + ODD) * (200_000 // (len(owner[key]) + len(ODD)) + 1)
        case Mutation.odd_string:
            owner[key] = owner[key] + ODD
        case Mutation.huge_array:
            owner[key] = owner[key] * 2_000
    return True


JSON_LEVEL = frozenset(
    {
        Mutation.enum_case,
        Mutation.enum_unknown,
        Mutation.wrong_type,
        Mutation.missing,
        Mutation.null,
        Mutation.extra_fields,
        Mutation.huge_string,
        Mutation.odd_string,
        Mutation.huge_array,
    }
)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


class Rewriting(httpx.BaseTransport):
    """The real transport, with every 2xx answer of `operation` rewritten by `mutation`;
    `rewritten` counts the answers it changed."""

    def __init__(self, operation: OperationId, mutation: Mutation, pick: int = 0) -> None:
        spec = next(op for op in operations() if op.id == operation)
        self.method, self.path = spec.method, _pattern(spec.path)
        self.mutation, self.pick = mutation, pick
        self.inner = httpx.HTTPTransport()
        self.rewritten = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != self.method or not self.path.match(request.url.path):
            return response
        body = response.read()
        response.close()
        if not 200 <= response.status_code < 300:
            return self._answer(response.status_code, response.headers, body)
        changed = self._rewrite(response.status_code, response.headers, body)
        if changed is None:
            return self._answer(response.status_code, response.headers, body)
        with self.lock:
            self.rewritten += 1
        return changed

    def _rewrite(self, status: int, headers: httpx.Headers, body: bytes) -> httpx.Response | None:
        m = self.mutation
        if m in JSON_LEVEL:
            try:
                data = json.loads(body)
            except ValueError:
                return None
            if not mutate_json(data, m, self.pick):
                return None
            return self._answer(status, headers, json.dumps(data).encode())
        if m == Mutation.non_utf8:
            return self._answer(status, headers, body.replace(b'"', b'"\xff\xfe', 1))
        if m == Mutation.truncated:
            return self._answer(status, headers, body[: len(body) // 2])
        if m == Mutation.wrong_content_type:
            return self._answer(status, headers, body, content_type=b"text/html; charset=utf-8")
        if m == Mutation.html_page:
            return self._answer(status, headers, HTML, content_type=b"text/html")
        if m == Mutation.html_error:
            return self._answer(500, headers, HTML, content_type=b"text/html")
        if m == Mutation.empty_200:
            return self._answer(200, headers, b"", content_type=None)
        assert m == Mutation.odd_header
        return self._answer(status, headers, body, extra=[(b"x-fuzz", b"caf\xe9 \x7f <&> ]]>")])

    @staticmethod
    def _answer(
        status: int,
        headers: httpx.Headers,
        body: bytes,
        *,
        content_type: bytes | str | None = "keep",
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> httpx.Response:
        kept = [
            (k, v)
            for k, v in headers.raw
            if k.lower() not in (b"content-length", b"content-encoding", b"transfer-encoding")
            and (content_type == "keep" or k.lower() != b"content-type")
        ]
        if isinstance(content_type, bytes):
            kept.append((b"content-type", content_type))
        kept += extra or []
        kept.append((b"content-length", str(len(body)).encode()))
        return httpx.Response(status, headers=kept, content=body)

    def close(self) -> None:
        self.inner.close()
