"""Named variations of the transfer (variations.toml), on every platform each applies to: gzip,
chunked transfer coding, throttling, upstream failures; and error details on the answers only
those give (429, the 405 of a missing write)."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from refkit import Api, expect_error, expect_ok  # type: ignore[import-not-found]
from varykit import cases, registry  # type: ignore[import-not-found]

from conformance.contract import operations
from conformance.reference.variations import where_applies

CHECKS, check = registry()


@check("gzip")
def _gzip(api: Api) -> None:
    for headers in ({"Accept-Encoding": "gzip"}, {"Accept-Encoding": "br, gzip;q=0.5"}):
        response = api.call("listOrders", headers=headers)
        assert response.headers.get("content-encoding") == "gzip", response.headers
        expect_ok(response, "listOrders")
    tiny = api.call_as(None, "getOrder", id="x")  # a 401 of ~100 bytes: compressed all the same
    assert tiny.headers.get("content-encoding") == "gzip"
    expect_error(tiny, 401, "UNAUTHORIZED")
    plain = api.call("listOrders", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    expect_ok(plain, "listOrders")


def raw_get(base_url: str, path: str, authorization: str | None) -> tuple[str, list[bytes]]:
    """One HTTP/1.1 GET over a bare socket: the response head, and the chunks of a chunked body."""
    url = urlsplit(base_url)
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\n{auth}Connection: close\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    chunks = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        chunks.append(rest[:size])
        body = rest[size + 2 :]
    return head.decode("latin-1").lower(), chunks


@check("chunked")
def _chunked(api: Api) -> None:
    token = api.client.headers["Authorization"]
    for path, authorization in (("/api/v2/orders", token), ("/api/v2/orders", None)):
        head, chunks = raw_get(api.base_url, path, authorization)
        assert "transfer-encoding: chunked" in head, head
        assert "content-length" not in head, head
        assert len([c for c in chunks if c]) >= 2, chunks
    response = api.call("listOrders")
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    expect_ok(response, "listOrders")


@check("throttle")
def _throttle(api: Api) -> None:
    every = api.profile.behaviour.throttle_every
    token = api.client.headers["Authorization"]
    for n in range(1, every + 1):
        authorization = None if n % 3 == 0 else token  # refused requests count too
        response = api.call_as(authorization, "listOrders")
        if n == every:
            expect_error(response, 429, "RATE_LIMITED")
            assert "retry-after" not in response.headers
        elif authorization is None:
            expect_error(response, 401, "UNAUTHORIZED")
        else:
            expect_ok(response, "listOrders")
    expect_ok(api.call("listOrders"), "listOrders")  # the next one is served


@check("upstream-errors")
def _upstream_errors(api: Api) -> None:
    every = api.profile.behaviour.upstream_errors_every
    expect_error(api.call_as(None, "listOrders"), 401, "UNAUTHORIZED")  # refused: not counted
    # earlier requests (the fixture's) may have counted: find the next failing one first
    answers = [api.call("listOrders") for _ in range(3 * every)]
    failed = [n for n, r in enumerate(answers) if r.status_code != 200]
    assert failed and failed == list(range(failed[0], 3 * every, every)), failed
    for n in failed:
        response = answers[n]
        if response.status_code == 503:
            expect_error(response, 503, "PLATFORM_ERROR")
            assert response.headers["retry-after"] == "0"
        else:
            expect_error(response, 502, "PLATFORM_ERROR")
            assert "retry-after" not in response.headers
    assert {answers[n].status_code for n in failed} == {502, 503}  # in turn
    for n, response in enumerate(answers):
        if n not in failed:
            expect_ok(response, "listOrders")
    # each operation counts its own requests: the first of another one fails too, and a write
    # that failed so wrote nothing
    if api.supports("createReturn"):
        order = api.take_order()
        line = order.lines[0]
        body = {"return": {"items": [{"id": line.id, "quantity": 1, "reason": "other"}]}}
        lists = "listOrderReturns" if api.supports("listOrderReturns") else "listReturns"
        where = {"orderId": order.id} if lists == "listOrderReturns" else {}
        api.call(lists, **where)  # its first request: the failing one
        before = api.ok(lists, **where)["returns"]
        expect_error(api.call("createReturn", orderId=order.id, json=body), 503, "PLATFORM_ERROR")
        assert api.ok(lists, **where)["returns"] == before  # nothing was written
        api.create(order.id, [(line.id, 1)])  # sent again: served


@pytest.mark.parametrize(("name", "platform"), cases(sorted(CHECKS)))
def test_wire_variation_on_the_wire(varied_api: Any, name: str, platform: str) -> None:
    CHECKS[name](varied_api(platform, [name]))


@pytest.mark.parametrize("platform", where_applies("missing-write-405"))
def test_error_details_on_429_and_405(varied_api: Any, platform: str) -> None:
    api: Api = varied_api(platform, ["error-details", "throttle", "missing-write-405"])
    write = next(
        op for op in operations() if op.is_write and api.profile.support[op.id] == "not_supported"
    )
    ids = {"orderId": api.profile.orders[0].id, "id": "R", "returnId": "R"}
    path = {k: v for k, v in ids.items() if "{" + k + "}" in write.path}
    statuses = []
    for _ in range(api.profile.behaviour.throttle_every):
        response = api.call(write.id, json={}, **path)
        code = {405: "METHOD_NOT_ALLOWED", 429: "RATE_LIMITED"}[response.status_code]
        body = expect_error(response, response.status_code, code)
        assert body["details"] and all(isinstance(d, dict) for d in body["details"]), body
        statuses.append(response.status_code)
    assert statuses == [405] * (len(statuses) - 1) + [429]


@check("slow")
def _slow(api: Api) -> None:
    """Every answer waits the variation's latency: a served one and a refused one alike."""
    wait = api.profile.behaviour.latency
    assert wait > 0
    for response in (api.call("listOrders"), api.call_as(None, "listOrders")):
        assert response.elapsed.total_seconds() >= wait, response.elapsed
