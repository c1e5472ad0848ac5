"""The schemathesis stage against the reference platforms.

Correct profiles must give zero findings (the stage is configured for the contract, not for
schemathesis' defaults); seeded defects must be found on the right operation with the right
reason; a read-only run must send nothing but GET; the token must never reach a finding.

Every server here is the reference app behind a small ASGI wrapper that counts the methods that
reach it (and, for the defect run, echoes the Authorization header back, so that redaction of
response headers is put to the test).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conformance.contract import operation as contract_operation
from conformance.contract import operations
from conformance.findings import Redactor
from conformance.generate import schemathesis_stage
from conformance.generate.schemathesis_stage import StageResult, build_config, run_schemathesis
from conformance.reference import create_app, load_profile, profile_names
from conformance.target import Target

MAX_EXAMPLES = 10
PROFILES = (
    "full-manual",
    "auto-approve",
    "seller-decides",
    "marketplace-readonly",
    "no-reverse-shipments",
    "no-returns",
)
DEFECTS = {
    # defect → (operation, reason) the stage must report
    "server_error_on_field_type": ("createReturnFulfillment", "server_error"),
    "server_error_on_invalid_input": ("createReturn", "server_error"),
    "missing_required_field": ("getReturn", "schema_violation"),
    "wrong_content_type": ("listReturnFulfillments", "wrong_content_type"),
    "auth_ignored": ("listOrderReturns", "auth_not_enforced"),
}


class Wrapped:
    """An ASGI wrapper: counts request methods; optionally echoes Authorization back."""

    def __init__(self, app: Any, *, echo_auth: bool = False) -> None:
        self.app = app
        self.echo_auth = echo_auth
        self.methods: Counter[str] = Counter()
        self.writes: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.methods[scope["method"]] += 1
        if scope["method"] != "GET":
            self.writes.append(scope["path"])
        auth = dict(scope["headers"]).get(b"authorization")

        async def send_echo(message: Any) -> None:
            if message["type"] == "http.response.start" and auth is not None:
                message = {**message, "headers": [*message["headers"], (b"x-echo-auth", auth)]}
            await send(message)

        await self.app(scope, receive, send_echo if self.echo_auth else send)


def unsupported_of(profile: str) -> dict[str, str]:
    return {op: support for op, support in load_profile(profile).support.items() if support != "ok"}


def known_ids_of(profile: str) -> dict[str, str]:
    """Real ids from the profile's seed data, as the engine would pass them after discovery."""
    prof = load_profile(profile)
    for ret in prof.returns:
        if ret.fulfillments:
            return {"orderId": ret.order, "id": ret.id, "fulfillmentId": ret.fulfillments[0].id}
    if prof.returns:
        return {"orderId": prof.returns[0].order, "id": prof.returns[0].id}
    return {"orderId": prof.orders[0].id} if prof.orders else {}


def describe(result: StageResult) -> str:
    lines = [f"{f.operation} {f.reason} {f.check}: {f.message[:300]}" for f in result.findings]
    return "\n".join(lines + [f"note: {n}" for n in result.notes])


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """What the reference server logged as errors (a 500 that is a bug of the server itself)."""
    handler = _Errors()
    logger = logging.getLogger("conformance.reference")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def test_profiles_are_the_six() -> None:
    assert set(PROFILES) == set(profile_names())


@pytest.mark.parametrize("seed, profile", list(enumerate(PROFILES, start=11)))
def test_correct_profile_has_no_findings(
    profile: str,
    seed: int,
    token: str,
    serve_app: Callable[[Any], Any],
    server_errors: list[logging.LogRecord],
) -> None:
    app = Wrapped(create_app(load_profile(profile), token))
    ref = serve_app(app)
    unsupported = unsupported_of(profile)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=True,
        seed=seed,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported,
        known_ids=known_ids_of(profile),
    )
    assert result.findings == (), describe(result)
    assert not server_errors
    writable = [op for op in operations() if op.method != "GET" and op.id not in unsupported]
    if len(unsupported) == len(operations()):  # no-returns: nothing to run, nothing sent
        assert result.cases == 0 and not app.methods
        assert any("no operation to test" in note for note in result.notes)
        return
    assert result.notes == (), describe(result)
    assert result.cases > 0
    assert sum(result.passed_checks.values()) > 0
    assert set(result.passed_checks) <= {op.id for op in operations()} - set(unsupported)
    if writable:  # writes were allowed and did reach the server: the counter sees them
        assert app.methods["POST"] > 0
    # No action and no reverse shipment on a return the suite did not create (a customer's).
    seeded = {ret.id for ret in load_profile(profile).returns}
    acted = [
        path
        for path in app.writes
        if path.endswith(("/approve", "/reject", "/cancel", "/fulfillments"))
        and seeded & set(path.split("/"))
    ]
    assert not acted, acted[:5]


def test_read_only_run_sends_only_get(token: str, serve_app: Callable[[Any], Any]) -> None:
    app = Wrapped(create_app(load_profile("full-manual"), token))
    ref = serve_app(app)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=False,
        seed=7,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported_of("full-manual"),
        known_ids=known_ids_of("full-manual"),
    )
    assert result.findings == (), describe(result)
    assert app.methods["GET"] > 0
    assert set(app.methods) == {"GET"}, app.methods
    # Every request the stage counts reached the server (the server also sees its probes).
    assert 0 < result.cases <= app.methods["GET"]
    writes = {op.id for op in operations() if op.method != "GET"}
    assert not writes & set(result.passed_checks)


def test_read_only_config_switches_off_writes_and_undeclared_methods() -> None:
    config = build_config(
        "http://127.0.0.1:1/",
        "secret-token",
        allow_writes=False,
        seed=1,
        max_examples=5,
        known_ids={},
        timeout=5,
        skipped=[op.id for op in operations() if op.method != "GET"],
    )
    assert config["base-url"] == "http://127.0.0.1:1"
    assert config["phases"]["coverage"]["unexpected-methods"] == []
    off = [entry for entry in config["operations"] if entry.get("enabled") is False]
    assert off and set(off[0]["include-operation-id"]) == {
        op.id for op in operations() if op.method != "GET"
    }
    assert config["generation"]["database"] == "none"
    assert config["phases"]["stateful"]["inference"]["algorithms"] == []


def test_token_is_sent_as_written_even_with_placeholder_syntax() -> None:
    import schemathesis

    token = "tok${HOME}$${x}"
    config = build_config(
        "http://127.0.0.1:1",
        token,
        allow_writes=False,
        seed=1,
        max_examples=1,
        known_ids={},
        timeout=5,
        skipped=[],
    )
    project = schemathesis.Config.from_dict(config).projects.get_default()
    assert project.headers_for()["Authorization"] == f"Bearer {token}"


def test_seeded_defects_are_found_where_they_are(
    token: str, serve_app: Callable[[Any], Any]
) -> None:
    defective = create_app(load_profile("full-manual"), token, frozenset(DEFECTS))
    app = Wrapped(defective, echo_auth=True)
    ref = serve_app(app)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=True,
        seed=1,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported_of("full-manual"),
        known_ids=known_ids_of("full-manual"),
    )
    found = {(f.operation, f.reason) for f in result.findings}
    for defect, expected in DEFECTS.items():
        assert expected in found, f"{defect} not found\n{describe(result)}"
    assert found <= set(DEFECTS.values()), describe(result)
    for finding in result.findings:
        assert finding.check.startswith("schemathesis.")
        assert finding.seed == 1
        assert finding.evidence, finding
        assert finding.evidence[-1].status is not None
    keys = [f.key for f in result.findings]
    assert len(keys) == len(set(keys))

    # The token never reaches a finding: not in evidence (request headers, the echoed response
    # header, bodies), not in the curl line, not encoded.
    text = json.dumps([f.to_json() for f in result.findings], ensure_ascii=False)
    forms = [token, base64.b64encode(token.encode()).decode().rstrip("=")]
    forms.append(base64.b64encode(f"Bearer {token}".encode()).decode().rstrip("="))
    for form in forms:
        assert form not in text
    echoed = [e.response_headers.get("x-echo-auth") for f in result.findings for e in f.evidence]
    assert "Bearer [REDACTED]" in echoed  # the echoed token was in the evidence, redacted
    assert any(f.reproduce and "$CONFORMANCE_TOKEN" in f.reproduce for f in result.findings)


def test_run_is_bounded_in_time(token: str, reference: Callable[..., Any]) -> None:
    ref = reference("auto-approve")
    started = time.monotonic()
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=False,
        seed=3,
        max_examples=1000,
        unsupported=unsupported_of("auto-approve"),
        max_time=1.5,
    )
    assert time.monotonic() - started < 15
    assert result.findings == (), describe(result)
    assert any("stopped early" in note for note in result.notes), result.notes


def test_unreachable_target_gives_notes() -> None:
    result = run_schemathesis(
        "http://127.0.0.1:9",
        "secret-token-1234",
        allow_writes=False,
        seed=1,
        max_examples=2,
        unsupported={},
        timeout=2.0,
        max_time=30.0,
    )
    assert result.findings == () and result.cases == 0
    assert result.notes


def test_an_incompatible_schemathesis_gives_a_note_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import schemathesis.engine

    def gone(schema: Any) -> Any:
        raise AttributeError("module 'schemathesis.engine' has no attribute 'from_schema'")

    monkeypatch.setattr(schemathesis.engine, "from_schema", gone)
    result = run_schemathesis(
        "http://127.0.0.1:9",
        "secret-token-1234",
        allow_writes=False,
        seed=1,
        max_examples=1,
        unsupported={},
    )
    assert result.findings == () and result.cases == 0
    assert result.notes and result.notes[0].startswith("schemathesis could not run")


def test_stage_has_no_reason_codes_of_its_own() -> None:
    import tomllib
    from importlib import resources

    text = resources.files("conformance.data").joinpath("reasons.toml").read_text("utf-8")
    reasons = set(tomllib.loads(text))
    assert set(schemathesis_stage.REASONS.values()) <= reasons
    assert {"server_error", "schema_violation", "auth_not_enforced"} <= reasons


# ------------------------------------------------------------------ translation, without a server


def _fake_scenario(token: str, *, template: str, read_path: str, read_status: int) -> Any:
    """A stateful scenario as the engine records it: create a return, then read it back."""
    from types import SimpleNamespace as NS

    def case(case_id: str, method: str, template: str, path: str) -> Any:
        operation = NS(method=method.lower(), path=template, label=f"{method} {template}")
        return NS(id=case_id, method=method, formatted_path=path, operation=operation)

    def answer(status: int, body: bytes) -> Any:
        headers = {"content-type": ["application/json"], "x-echo-auth": [f"Bearer {token}"]}
        return NS(status_code=status, headers=headers, content=body, elapsed=0.01)

    create = case("c1", "POST", "/api/v2/orders/{orderId}/returns", "/api/v2/orders/O1/returns")
    read = case("c2", "GET", template, read_path)
    request = NS(
        method="GET",
        uri=f"http://x{read_path}",
        body=None,
        headers={"Authorization": [f"Bearer {token}"]},
    )
    interactions = {
        "c1": NS(
            request=NS(
                method="POST",
                uri="http://x/api/v2/orders/O1/returns",
                body=b'{"return": {}}',
                headers={},
            ),
            response=answer(201, b'{"success": true}'),
        ),
        "c2": NS(request=request, response=answer(read_status, b'{"success": false}')),
    }
    failure = NS(
        code="ST302", title="Created resource not found", message="404 after create", case_id=None
    )
    checks = {
        "c1": [NS(name="not_a_server_error", status=NS(value="success"), failure_info=None)],
        "c2": [
            NS(
                name="ensure_resource_availability",
                status=NS(value="failure"),
                failure_info=NS(failure=failure),
            )
        ],
    }
    recorder = NS(
        cases={"c1": NS(value=create), "c2": NS(value=read)},
        interactions=interactions,
        checks=checks,
        iter_chain_cases=lambda case_id: iter([create, read]),
        find_response=lambda case_id: interactions[case_id].response,
    )
    return NS(phase=NS(value="stateful"), recorder=recorder)


@pytest.mark.parametrize(
    "operation, reason, read_path",
    [
        ("getReturn", "data_mismatch", "/api/v2/orders/O1/returns/R1"),
        ("listReturnFulfillments", "stale_list", "/api/v2/orders/O1/returns/R1/fulfillments"),
    ],
)
def test_stateful_failure_lands_on_the_operation_that_answered(
    operation: str, reason: str, read_path: str
) -> None:
    token = "secret-token-abcdef"
    run = schemathesis_stage._Run(
        base_url="http://x",
        token=token,
        allow_writes=True,
        seed=5,
        max_examples=1,
        unsupported={},
        known_ids={},
        timeout=1.0,
        max_time=1.0,
        consistency_window=0.0,
        redactor=Redactor([token]),
        resender=Target("http://x", token, allow_writes=True),
    )
    template = contract_operation(operation).path
    run.scenario(_fake_scenario(token, template=template, read_path=read_path, read_status=404))
    [finding] = run.findings.values()
    assert (finding.operation, finding.reason) == (operation, reason)
    assert finding.check == "schemathesis.ensure_resource_availability"
    assert finding.steps == (
        "POST /api/v2/orders/O1/returns -> 201",
        f"GET {read_path} -> 404",
    )
    assert finding.seed == 5
    assert token not in json.dumps(finding.to_json())
    assert run.passed == {"createReturn": 1}
    assert run.cases == 2


class ThrottleAnonymous:
    """An ASGI wrapper: a request without credentials is throttled (429, no Retry-After), as a
    gateway in front of a connector may do before any auth check."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.throttled = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or [])
        if scope["type"] == "http" and b"authorization" not in headers:
            self.throttled += 1
            body = json.dumps(
                {"success": False, "code": 429, "error": "RATE_LIMITED", "message": "slow down"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_throttling_never_fails_a_check(token: str, serve_app: Callable[[Any], Any]) -> None:
    # 429 to the requests `ignored_auth` / `missing_required_header` send without a token is
    # throttling, not "auth ignored": both return lists stay free of findings.
    app = ThrottleAnonymous(create_app(load_profile("auto-approve"), token))
    ref = serve_app(app)
    result = run_schemathesis(
        ref.base_url,
        token,
        allow_writes=False,
        seed=4,
        max_examples=MAX_EXAMPLES,
        unsupported=unsupported_of("auto-approve"),
        known_ids=known_ids_of("auto-approve"),
    )
    assert app.throttled > 0
    assert result.findings == (), describe(result)
    assert any("429" in note for note in result.notes), result.notes
