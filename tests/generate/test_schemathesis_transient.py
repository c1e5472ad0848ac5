"""Transient answers in the schemathesis stage (contract section 2, "Transient answers").

Schemathesis' client never retries a 502/503/504 (its `request-retries` covers network failures
only, its rate-limit mode 429 only), so the stage sends such a request again through the suite's
`Target`, which retries per the contract: a request then served is counted as retried on its
operation, never a finding; the same 5xx every time while the requests around it succeed stays
`failing`; still refused after the budget is `inconclusive` (`platform_error`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace as NS
from typing import Any

import pytest

from conformance.contract import OperationId, operation, operations
from conformance.findings import Exchange, Redactor
from conformance.generate.schemathesis_stage import SchemathesisDrift, run_schemathesis
from conformance.generate.schemathesis_stage.transient import TRANSIENT, Transients
from conformance.reference import create_app, load_profile, with_variations
from conformance.target import Reply, Target
from conformance.verdicts import ReasonCode

MAX_EXAMPLES = 5
TOKEN = "transient-token-1234"


class StatusCount:
    """An ASGI wrapper that counts the statuses the app answered (the transient ones matter)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.statuses: Counter[int] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses[int(message["status"])] += 1
            await send(message)

        await self.app(scope, receive, send if scope["type"] != "http" else counted)


def unsupported_of(profile: str) -> dict[str, str]:
    return {op: s for op, s in load_profile(profile).support.items() if s != "ok"}


def upstream_app(profile: str, token: str, defects: frozenset[str] = frozenset()) -> StatusCount:
    varied = with_variations(load_profile(profile), ["upstream-errors"])
    return StatusCount(create_app(varied, token, defects))


def describe(findings: Any, notes: Any = ()) -> str:
    lines = [f"{f.operation} {f.reason} {f.check}: {f.message[:200]}" for f in findings]
    return "\n".join(lines + [f"note: {n}" for n in notes])


@pytest.mark.parametrize(
    "profile, writes, seed",
    [("full-manual", True, 21), ("marketplace-readonly", False, 22)],
)
def test_upstream_errors_are_retried_not_failed(
    profile: str, writes: bool, seed: int, token: str, serve_app: Callable[[Any], Any]
) -> None:
    app = upstream_app(profile, token)
    ref = serve_app(app)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=writes,
        seed=seed,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported_of(profile),
    )
    assert app.statuses[502] + app.statuses[503] > 0  # the variation did answer transiently
    assert result.findings == (), describe(result.findings, result.notes)
    # Every request schemathesis got a transient answer to (on a scored operation) was sent
    # again and counted on its operation; each record starts with the answer schemathesis got.
    assert result.retried, result.notes
    scored = {op.id for op in operations()}
    for op, answers in result.retried:
        assert op in scored
        assert answers and answers[0] in {"502", "503"}, answers
    assert any("sent again" in note for note in result.notes), result.notes


def test_a_real_500_is_still_caught_with_upstream_errors(
    token: str, serve_app: Callable[[Any], Any]
) -> None:
    app = upstream_app("full-manual", token, frozenset({"server_error_on_field_type"}))
    ref = serve_app(app)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=True,
        seed=1,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported_of("full-manual"),
    )
    errors = [f for f in result.findings if f.reason == ReasonCode.server_error]
    assert {f.operation for f in errors} == {OperationId.createReturnFulfillment}, describe(
        result.findings, result.notes
    )
    assert all(f.evidence and f.evidence[-1].status == 500 for f in errors)
    assert result.retried


class PersistentOnOneInput:
    """An ASGI wrapper: every request whose query says `limit=250` is answered 502
    PLATFORM_ERROR (a store that always fails on that input); every other request is served."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refused = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        query = scope.get("query_string", b"").decode("latin-1").split("&")
        if scope["type"] == "http" and "limit=250" in query and scope["path"].startswith("/api/"):
            self.refused += 1
            body = json.dumps(
                {"success": False, "code": 502, "error": "PLATFORM_ERROR", "message": "no"}
            ).encode()
            start = {
                "type": "http.response.start",
                "status": 502,
                "headers": [(b"content-type", b"application/json")],
            }
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_the_same_5xx_on_one_input_every_time_stays_failing(
    token: str, serve_app: Callable[[Any], Any]
) -> None:
    app = PersistentOnOneInput(create_app(load_profile("auto-approve"), token))
    ref = serve_app(app)
    # The session's Target has seen every list answer before the stage runs (the probes): "the
    # requests around it succeed" is judged from what it saw of the same operation.
    target = Target(ref.base_url, token, allow_writes=False, retry_pause=0.01)
    profile = load_profile("auto-approve")
    ret = profile.returns[0]
    ids = {"orderId": ret.order, "returnId": ret.id}
    for op in operations():
        if op.is_list:
            assert target.call("GET", op.url_path(**ids), route=op.id).ok, op.id
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=False,
        seed=5,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported_of("auto-approve"),
        target=target,
    )
    target.close()
    assert app.refused > 0
    errors = [f for f in result.findings if f.reason == ReasonCode.server_error]
    assert errors, describe(result.findings, result.notes)
    for finding in errors:
        assert operation(finding.operation).is_list  # the operations with a `limit`
        assert finding.evidence[-1].status == 502
        assert "limit=250" in finding.evidence[-1].url
    assert {f.reason for f in result.findings} == {ReasonCode.server_error}


# ------------------------------------------------------------------ the classifier, no server


class FakeTarget:
    """Answers every call with `reply`; remembers what it was asked."""

    base_url = "http://store.test"

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.calls: list[tuple[str, str, bytes | None, str]] = []

    def call(
        self,
        method: str,
        path: str,
        *,
        raw_body: bytes | None = None,
        auth: str,
        route: str | None = None,
    ) -> Reply:
        self.calls.append((method, path, raw_body, auth))
        return self.reply


def _reply(status: int | None, problem: str | None = None, retried: tuple[str, ...] = ()) -> Reply:
    exchange = Exchange(
        "POST",
        "http://store.test/api/v2/orders/O%2F1/returns?x=1",
        {"authorization": "Bearer [REDACTED]"},
        {"return": {}},
        status,
        {},
        {"success": status is not None and status < 300},
    )
    return Reply(exchange, None, problem, retried)


def _response(status: int, auth: str | None = f"Bearer {TOKEN}") -> Any:
    headers = {"Authorization": auth} if auth is not None else {}
    request = NS(
        method="POST",
        url="http://store.test/api/v2/orders/O%2F1/returns?x=1",
        headers=headers,
        body=b'{"return": {}}',
    )
    return NS(status_code=status, request=request)


def _transients(reply: Reply) -> tuple[Transients, FakeTarget]:
    target = FakeTarget(reply)
    return Transients(target, TOKEN, Redactor([TOKEN]), seed=3), target


def test_transient_statuses_are_the_contracts() -> None:
    assert {502, 503, 504} == TRANSIENT


def test_served_on_resend_is_dropped_and_counted() -> None:
    transients, target = _transients(_reply(201, retried=("502",)))
    response = _response(503)
    assert transients.keep(OperationId.createReturn, response) is False
    assert transients.keep(OperationId.createReturn, response) is False  # once per answer
    # the same bytes, path and query as sent, with the suite's own auth
    assert target.calls == [
        ("POST", "/api/v2/orders/O%2F1/returns?x=1", b'{"return": {}}', "valid")
    ]
    assert transients.retried == [(OperationId.createReturn, ("503", "502"))]
    assert transients.findings == []


def test_resend_keeps_the_auth_the_request_had() -> None:
    transients, target = _transients(_reply(401))
    assert transients.keep(OperationId.createReturn, _response(502, auth=None)) is False
    assert transients.keep(OperationId.createReturn, _response(502, auth="Bearer nope")) is False
    assert [call[3] for call in target.calls] == ["none", "invalid"]


def test_same_5xx_every_time_is_kept() -> None:
    transients, _ = _transients(_reply(503, retried=("503", "503")))
    assert transients.keep(OperationId.createReturn, _response(503)) is True
    assert transients.findings == []
    assert transients.retried == [(OperationId.createReturn, ("503", "503", "503"))]


@pytest.mark.parametrize("problem", ["platform_error", "rate_limited"])
def test_budget_spent_is_inconclusive(problem: str) -> None:
    transients, _ = _transients(_reply(504, problem=problem, retried=("502", "503")))
    assert transients.keep(OperationId.createReturn, _response(503)) is False
    [finding] = transients.findings
    assert (finding.operation, finding.reason) == (
        OperationId.createReturn,
        ReasonCode.platform_error,
    )
    assert finding.evidence and finding.evidence[-1].status == 504
    assert TOKEN not in json.dumps(finding.to_json())


def test_a_500_on_resend_is_a_server_error() -> None:
    transients, _ = _transients(_reply(500, retried=()))
    assert transients.keep(OperationId.createReturn, _response(502)) is False
    [finding] = transients.findings
    assert (finding.operation, finding.reason) == (
        OperationId.createReturn,
        ReasonCode.server_error,
    )
    assert finding.evidence[-1].status == 500
    assert transients.retried == [(OperationId.createReturn, ("502",))]


def test_a_response_without_its_request_is_drift() -> None:
    transients, target = _transients(_reply(200))
    with pytest.raises(SchemathesisDrift, match="request"):
        transients.keep(OperationId.createReturn, NS(status_code=503))
    assert target.calls == []


def test_the_session_counts_the_stages_retries_and_gives_it_its_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import conformance.generate as generate
    from conformance.discover import Inventory
    from conformance.findings import Finding
    from conformance.generate.schemathesis_stage import StageResult
    from conformance.probes.session import Session, Settings

    target = Target("http://store.test", TOKEN, allow_writes=False)
    s = Session(target, Inventory(), Settings(allow_writes=False, act_on_existing=False, seed=2))
    undecided = Finding(
        OperationId.getReturn, ReasonCode.platform_error, "schemathesis.not_a_server_error", "x"
    )
    given: dict[str, Any] = {}

    def stage(*args: Any, **kwargs: Any) -> StageResult:
        given.update(kwargs)
        retried = ((OperationId.getReturn, ("503",)), (OperationId.getReturn, ("502", "503")))
        return StageResult(findings=(undecided,), retried=retried)

    monkeypatch.setattr(generate, "run_schemathesis", stage)
    generate.schemathesis_phase(s, 1)
    target.close()
    assert given["target"] is target  # its retries and request count are the session's
    assert s.seen.retried_requests == {OperationId.getReturn: [("503",), ("502", "503")]}
    assert s.seen.for_operation(OperationId.getReturn) == [undecided]
