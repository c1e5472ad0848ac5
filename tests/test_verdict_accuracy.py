"""Verdicts on connectors the suite did not grow up with: each test is a behaviour the contract
permits (or a bug placed in one operation), and the suite must fail only the operation whose
answer breaks a rule the contract states.

The servers are the reference platforms with named variations (conformance/reference/
variations.toml) or behind a small ASGI wrapper that changes one thing on the wire.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from conformance import config as run_config
from conformance import engine
from conformance.reference import ReferenceServer, create_app, load_profile
from conformance.reference.variations import with_variations
from conformance.results import PlatformResult
from conformance.verdicts import Verdict


def reference(
    platform: str, *variations: str, seed: int = 3, max_examples: int = 3
) -> PlatformResult:
    return engine.run_reference(
        platform, variations=frozenset(variations), seed=seed, max_examples=max_examples
    ).platforms[0]


def against(base_url: str, token: str, *, seed: int = 3, max_examples: int = 3) -> PlatformResult:
    cfg = run_config.build(
        base_url=base_url,
        platform="wrapped",
        token=token,
        allow_writes=True,
        act_on_existing=True,
        seed=seed,
        max_examples=max_examples,
    )
    cfg = dataclasses.replace(cfg, consistency_window=0.0, schemathesis=False)
    return engine.run(cfg).platforms[0]


def failing(result: PlatformResult) -> dict[str, list[str]]:
    return {
        c.operation: [f"{f.reason}: {f.message[:200]}" for f in c.findings]
        for c in result.operations
        if c.verdict == Verdict.failing
    }


def verdicts(result: PlatformResult) -> dict[str, str]:
    return {c.operation: c.verdict.value for c in result.operations}


# ---- 1. size limits the contract does not set -----------------------------------------------


def test_long_text_accepted_is_a_note_not_a_failure() -> None:
    result = reference("full-manual", "long-text")
    assert failing(result) == {}
    assert set(verdicts(result).values()) <= {"supported", "unsupported"}, verdicts(result)
    notes = [n for c in result.operations for n in c.notes]
    assert any("accepts a 5,000-character return note" in n for n in notes), notes
    assert any("accepts a 3,000-character tracking URL" in n for n in notes), notes


def test_long_text_refused_is_a_note_too() -> None:
    result = reference("full-manual")  # the reference server's own limits: 400
    notes = [n for c in result.operations for n in c.notes]
    assert any("refuses a 5,000-character return note with 400" in n for n in notes), notes
    assert failing(result) == {}


# ---- 4. ids that need percent-encoding ----------------------------------------------------------


def test_ids_that_need_percent_encoding() -> None:
    result = reference("full-manual", "encoded-ids")
    assert failing(result) == {}
    support = load_profile("full-manual").support
    assert verdicts(result) == {
        op: "supported" if s == "ok" else "unsupported" for op, s in support.items()
    }


# ---- 5. optional fields ---------------------------------------------------------------------


def test_only_the_required_fields() -> None:
    result = reference("full-manual", "required-only")
    assert failing(result) == {}
    assert result.cell("createReturn").verdict == Verdict.supported


# ---- 6. the consistency window everywhere -------------------------------------------------------


def test_reads_that_lag_within_the_window() -> None:
    result = reference("full-manual", "read-lag")
    assert failing(result) == {}
    assert result.provenance.max_examples == 3


# ---- 7. rejected list parameters ---------------------------------------------------------------


def test_rejected_pagination_is_partial_on_every_list() -> None:
    result = reference("auto-approve", "pagination-rejected")
    assert failing(result) == {}
    for op in ("listReturns", "listOrderReturns", "listReturnFulfillments"):
        cell = result.cell(op)
        assert cell.verdict == Verdict.partial, (op, cell.reasons)
        assert cell.reasons == ("pagination_rejected",), (op, cell.reasons)


def test_rejected_filters_are_partial() -> None:
    result = reference("auto-approve", "filters-rejected")
    assert failing(result) == {}
    for op in ("listReturns", "listOrderReturns"):
        assert result.cell(op).reasons == ("filter_rejected",), result.cell(op).reasons


# ---- 8 and 9. the suite's own data, unknown reasons ------------------------------------------


def test_unknown_reasons_accepted_are_noted_and_not_charged_to_the_reads() -> None:
    result = reference("full-manual", "unknown-reasons-accepted")
    assert failing(result) == {}
    assert all(c.verdict != Verdict.partial for c in result.operations), verdicts(result)
    notes = result.cell("createReturn").notes
    assert any("reason outside the normalized vocabulary" in n for n in notes), notes


def test_invalid_input_accepted_stays_on_the_operation_that_accepted_it() -> None:
    result = engine.run_reference(
        "full-manual", defects=frozenset({"invalid_input_accepted"}), seed=3, max_examples=3
    ).platforms[0]
    assert set(failing(result)) == {"createReturn"}, failing(result)
    assert "invalid_input_accepted" in result.cell("createReturn").reasons


def test_what_schemathesis_made_from_invalid_input_stays_on_create_too() -> None:
    """A URL target (schemathesis on, as by default): the invalid returns schemathesis' negative
    cases made, once accepted, show up in listOrderReturns and in the clean-up's cancelReturn
    answers; their schema problems are createReturn's (the benchmark's part g saw both reads
    charged `schema_violation`)."""
    token = "knock-on-token-1234"
    with ReferenceServer("full-manual", token, frozenset({"invalid_input_accepted"})) as server:
        cfg = run_config.build(
            base_url=server.base_url,
            platform="wrapped",
            token=token,
            allow_writes=True,
            seed=2026,
            max_examples=20,
        )
        cfg = dataclasses.replace(cfg, consistency_window=0.0)
        assert cfg.schemathesis is None  # the default: on for a URL target
        result = engine.run(cfg).platforms[0]
    assert set(failing(result)) == {"createReturn"}, failing(result)
    assert "invalid_input_accepted" in result.cell("createReturn").reasons


def test_platform_vocabulary_is_partial_where_it_is_answered() -> None:
    result = reference("full-manual", "platform-vocabulary")
    assert failing(result) == {}
    assert "nonnormalized_value" in result.cell("getReturn").reasons


# ---- 10. phantom entries in the global list --------------------------------------------------


PHANTOM = {
    "returnOrderId": "PHANTOM-1",
    "orderId": "GHOST-ORDER-1",
    "status": "requested",
    "returnItems": [{"returnItemId": "PHANTOM-1-1", "quantity": 1, "returnReason": "other"}],
}


class PhantomInGlobalList:
    """listReturns names, first, a return whose order does not exist (only in its unfiltered,
    unpaged answer)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        query = parse_qs(scope.get("query_string", b"").decode())
        plain = not set(query) - {"limit"} and query.get("limit", ["250"]) == ["250"]
        if scope["type"] != "http" or scope["path"] != "/api/v2/returns" or not plain:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = json.loads(b"".join(chunks))
        if start["status"] == 200:
            body["returns"].insert(0, PHANTOM)
        data = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(data)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def test_phantom_entries_are_charged_to_the_list_that_shows_them(
    token: str, serve_app: Callable[[Any], Any]
) -> None:
    ref = serve_app(PhantomInGlobalList(create_app(load_profile("auto-approve"), token)))
    result = against(ref.base_url, token)
    found = failing(result)
    assert "listReturns" in found, found
    assert set(found) == {"listReturns"}, found
    # Paging past the phantom may also be noticed (pagination_broken): a fair finding on the
    # same list. The 404s it causes must land here, named as the list's doing.
    phantom = [
        f
        for f in result.cell("listReturns").findings
        if f.reason == "data_mismatch" and "PHANTOM-1" in f.message
    ]
    assert phantom, result.cell("listReturns").findings
    assert "listReturns names return PHANTOM-1" in phantom[0].message


# ---- optional fields sent as null (contract §2) ---------------------------------------------


def test_optional_nulls_treated_as_absent_are_notes_not_failures() -> None:
    """createReturnFulfillment with `"items": null` served as if `items` were absent: correct
    (contract §2), so noted, never `failing`."""
    result = reference("full-manual", "null-as-absent")
    assert failing(result) == {}
    notes = result.cell("createReturnFulfillment").notes
    assert any("/returnFulfillment/items null" in n and "treated as absent" in n for n in notes), (
        notes
    )
    assert result.cell("createReturnFulfillment").verdict == Verdict.supported


class NullTrackingNumberAccepted:
    """createReturnFulfillment fills in a tracking number sent as null or left out, and serves
    the request: it accepts a REQUIRED field that is null or missing."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope["path"]).endswith("/fulfillments"):
            await self.app(scope, receive, send)
            return
        raw, more = b"", True
        while more:
            message = await receive()
            raw += message.get("body", b"")
            more = bool(message.get("more_body", False))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        shipment = body.get("returnFulfillment") if isinstance(body, dict) else None
        tracking = shipment.get("tracking") if isinstance(shipment, dict) else None
        if isinstance(tracking, dict) and tracking.get("number") is None:
            tracking["number"] = "FILLED-IN"
            raw = json.dumps(body).encode()
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await self.app({**scope, "headers": headers}, replay, send)


def test_a_required_field_sent_as_null_and_accepted_is_still_failing(
    token: str, serve_app: Callable[[Any], Any]
) -> None:
    profile = with_variations(load_profile("full-manual"), ["null-as-absent"])
    ref = serve_app(NullTrackingNumberAccepted(create_app(profile, token)))
    result = against(ref.base_url, token)
    found = failing(result)
    assert set(found) == {"createReturnFulfillment"}, found
    accepted = [
        f
        for f in result.cell("createReturnFulfillment").findings
        if f.reason == "invalid_input_accepted"
    ]
    messages = [f.message for f in accepted]
    # One finding per check is kept: the first of the two (number left out, number null).
    assert any(
        "/returnFulfillment/tracking" in m and "required field that is missing or null" in m
        for m in messages
    ), messages


# ---- a redirect is never an acceptance -----------------------------------------------------------


class RedirectReturnList:
    """listReturns answers every request 307, to another host (redirects are not followed)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/v2/returns":
            await self.app(scope, receive, send)
            return
        location = b"http://elsewhere.invalid/api/v2/returns"
        headers = [(b"location", location), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 307, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def test_a_redirect_on_a_list_is_an_undocumented_status_not_an_acceptance(
    token: str, serve_app: Callable[[Any], Any]
) -> None:
    ref = serve_app(RedirectReturnList(create_app(load_profile("auto-approve"), token)))
    cfg = run_config.build(
        base_url=ref.base_url,
        platform="wrapped",
        token=token,
        allow_writes=True,
        act_on_existing=True,
        seed=3,
        max_examples=3,
    )
    # schemathesis on (as for any URL target): its negative cases get the 307 too
    result = engine.run(dataclasses.replace(cfg, consistency_window=0.0)).platforms[0]
    cell = result.cell("listReturns")
    assert cell.verdict == Verdict.failing, cell.reasons
    assert "undocumented_status" in cell.reasons, cell.reasons
    assert "invalid_input_accepted" not in cell.reasons, [f.message for f in cell.findings]
    assert "wrong_content_type" not in cell.reasons, [f.message for f in cell.findings]
    assert any(f.check.startswith("schemathesis.") for f in cell.findings), cell.findings


# ---- a slow store changes nothing ---------------------------------------------------------------


def test_slow_answers_change_no_verdict() -> None:
    """Every answer 25 ms late (variation slow): the same verdicts and reasons as without."""
    slow, plain = reference("full-manual", "slow"), reference("full-manual")
    assert {c.operation: (c.verdict, c.reasons) for c in slow.operations} == {
        c.operation: (c.verdict, c.reasons) for c in plain.operations
    }
    assert failing(slow) == {}
