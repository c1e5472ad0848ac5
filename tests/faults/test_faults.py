"""A misbehaving target: a real HTTP server on loopback that wraps the reference server and
injects one fault at a time. Each case asserts the verdict and reason, that the run finished
within a bound, and that the token appears in no file written and no console line."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.reference import create_app, load_profile
from conformance.reference.server import AppServer

TOKEN = "fault-token-0123456789abcdef"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Fault:
    """Which requests get which misbehaviour: (method, path suffix) → what to do."""

    method: str
    suffix: str  # matched against the end of the path ("/returns" or a regex-free tail)
    kind: str
    times: int = 10**9  # how many matching requests misbehave; the rest are served


class FaultInjector:
    """ASGI wrapper: counts every request, and misbehaves on the ones a Fault matches."""

    redirect_to = "http://127.0.0.1:9/"

    def __init__(self, app: Any, faults: list[Fault]) -> None:
        self.app, self.faults = app, faults
        self.seen: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        self.posts: list[str] = []

    def match(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.endswith(fault.suffix) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.methods[scope["method"]] += 1
        if scope["method"] == "POST":
            self.posts.append(scope["path"])
        fault = self.match(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        await globals()[f"_{fault.kind}"](self, scope, receive, send)


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _throttle(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(
        send,
        429,
        json.dumps(
            {"success": False, "code": 429, "error": "RATE_LIMITED", "message": "slow down"}
        ).encode(),
        [(b"content-type", b"application/json"), (b"retry-after", b"0")],
    )


def _platform_error(status: int) -> bytes:
    return json.dumps(
        {"success": False, "code": status, "error": "PLATFORM_ERROR", "message": "try again"}
    ).encode()


async def _unavailable(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    """503 PLATFORM_ERROR without Retry-After: the store behind the connector failed."""
    await _respond(send, 503, _platform_error(503), [(b"content-type", b"application/json")])


async def _bad_gateway(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(send, 502, _platform_error(502), [(b"content-type", b"application/json")])


async def _throttle_plain(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    """429 without Retry-After: the suite's own backoff decides the pause."""
    body = {"success": False, "code": 429, "error": "RATE_LIMITED", "message": "slow down"}
    await _respond(send, 429, json.dumps(body).encode(), [(b"content-type", b"application/json")])


async def _serve(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    """No fault: a Fault of this kind keeps the ones after it off the requests it matches."""
    await inj.app(scope, receive, send)


async def _slow(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(2.0)
    await inj.app(scope, receive, send)


async def _hang_up(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    """Promise 1000 bytes, send 10, end: the server drops the connection mid-answer."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", b"1000"), (b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"success"'})


async def _malformed_json(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(
        send,
        200,
        b'{"success": true, "return": {"returnOrderId": ',
        [(b"content-type", b"application/json")],
    )


async def _html(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(
        send,
        200,
        b"<html><body>Bad gateway, try later</body></html>",
        [(b"content-type", b"text/html")],
    )


async def _empty(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(send, 200, b"", [(b"content-type", b"application/json")])


async def _huge(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    chunk = b'{"success": true, "returns": [' + b'{"x": 1},' * 700_000 + b'{"x": 1}]}'
    await _respond(send, 200, chunk, [(b"content-type", b"application/json")])


async def _endless(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps({"success": True, "returns": [], "page": {"next": "again-and-again"}})
    await _respond(send, 200, body.encode(), [(b"content-type", b"application/json")])


async def _echo_token(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    auth = dict(scope["headers"]).get(b"authorization", b"").decode()
    body = json.dumps(
        {
            "success": False,
            "code": 500,
            "error": "PLATFORM_ERROR",
            "message": f"upstream rejected {auth}",
            "details": [{"token": TOKEN}],
        }
    )
    await _respond(
        send,
        500,
        body.encode(),
        [(b"content-type", b"application/json"), (b"x-debug-auth", auth.encode())],
    )


def serving(app: Any) -> AppServer:
    """The app on loopback; uvicorn's own error lines about broken connections stay quiet."""
    return AppServer(app, name="fault-injector", log_level="critical")


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    seconds: float
    matrix: dict[str, Any]
    files: str
    injector: FaultInjector


@pytest.fixture
def faulty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Outcome]]:
    def run(faults: list[Fault], *extra: str, platform: str = "full-manual") -> Outcome:
        injector = FaultInjector(create_app(load_profile(platform), TOKEN), faults)
        monkeypatch.setenv("CONFORMANCE_TOKEN", TOKEN)
        out_dir = tmp_path / "out"
        with serving(injector) as served:
            started = time.monotonic()
            code = main(
                [
                    "run",
                    "--base-url",
                    served.base_url,
                    "--platform",
                    "shop",
                    "--output-dir",
                    str(out_dir),
                    "--max-examples",
                    "3",
                    "--timeout",
                    "1",
                    "--seed",
                    "4",
                    *extra,
                ]
            )
            seconds = time.monotonic() - started
        out, err = capsys.readouterr()
        matrix_file = out_dir / "capability_matrices" / "shop.json"
        matrix = json.loads(matrix_file.read_text()) if matrix_file.exists() else {}
        files = "\n".join(
            p.read_text("utf-8", "replace") for p in out_dir.rglob("*") if p.is_file()
        )
        assert TOKEN not in files + out + err, "the token leaked into an output"
        return Outcome(code, out, err, seconds, matrix, files, injector)

    yield run


def cell(outcome: Outcome, op: str) -> dict[str, Any]:
    return dict(outcome.matrix["operations"][op])


BOUND = 90.0  # seconds: every faulty run must still finish (and write its reports)


@pytest.mark.parametrize(
    ("fault", "op", "verdict", "reason"),
    [
        (
            Fault("GET", "/SHOP-1001/returns", "throttle", times=1),
            "listOrderReturns",
            "supported",
            None,
        ),
        (
            Fault("GET", "/fulfillments", "slow"),
            "listReturnFulfillments",
            "inconclusive",
            "timeout",
        ),
        (
            Fault("GET", "/fulfillments", "hang_up"),
            "listReturnFulfillments",
            "inconclusive",
            "connection_error",
        ),
        (
            Fault("GET", "/SHOP-R-9001", "malformed_json"),
            "getReturn",
            "failing",
            "schema_violation",
        ),
        (
            Fault("GET", "/SHOP-1001/returns", "html"),
            "listOrderReturns",
            "failing",
            "wrong_content_type",
        ),
        (Fault("GET", "/SHOP-R-9001", "empty"), "getReturn", "failing", "schema_violation"),
        (
            Fault("GET", "/SHOP-1001/returns", "huge", times=1),
            "listOrderReturns",
            "failing",
            "schema_violation",
        ),
    ],
    ids=[
        "throttled-once-per-order",
        "timeout",
        "connection-reset",
        "malformed-json",
        "html",
        "empty-body",
        "huge-body",
    ],
)
def test_each_fault_gets_its_verdict(
    faulty: Callable[..., Outcome], fault: Fault, op: str, verdict: str, reason: str | None
) -> None:
    outcome = faulty([fault], "--allow-writes")
    assert outcome.code in (0, 1), outcome.err
    assert outcome.seconds < BOUND
    got = cell(outcome, op)
    if reason is None:
        # Throttled answers on one order's list: retried, the rest of the list probes decide.
        assert got["status"] == verdict, got["reasons"]
    else:
        assert got["status"] == verdict, got["reasons"]
        assert reason in got["reasons"], got["reasons"]
        finding = next(f for f in got["findings"] if f["reason"] == reason)
        assert finding["evidence"], "every finding carries its evidence"


def test_throttling_beyond_the_retry_budget_is_inconclusive(faulty: Callable[..., Outcome]) -> None:
    outcome = faulty([Fault("GET", "/fulfillments", "throttle")], "--allow-writes")
    got = cell(outcome, "listReturnFulfillments")
    assert got["status"] == "inconclusive" and got["reasons"] == ["rate_limited"]
    assert outcome.seconds < BOUND


def test_retry_after_is_honoured(faulty: Callable[..., Outcome]) -> None:
    outcome = faulty([Fault("GET", "/SHOP-R-9001", "throttle", times=2)], "--allow-writes")
    assert cell(outcome, "getReturn")["status"] == "supported"


def test_endless_pagination_is_bounded(faulty: Callable[..., Outcome]) -> None:
    outcome = faulty([Fault("GET", "/SHOP-1001/returns", "endless")], "--allow-writes")
    got = cell(outcome, "listOrderReturns")
    assert got["status"] == "failing" and "pagination_broken" in got["reasons"]
    assert outcome.seconds < BOUND


def test_token_echoed_by_the_target_is_redacted(faulty: Callable[..., Outcome]) -> None:
    outcome = faulty([Fault("GET", "/SHOP-R-9001", "echo_token")], "--allow-writes")
    got = cell(outcome, "getReturn")
    assert got["status"] == "failing" and "server_error" in got["reasons"]
    assert "[REDACTED]" in outcome.files  # the echo was recorded, without the secret


def test_read_only_run_sends_no_post(faulty: Callable[..., Outcome]) -> None:
    outcome = faulty([])
    assert set(outcome.injector.methods) == {"GET"}, outcome.injector.methods
    for op in (
        "createReturn",
        "approveReturn",
        "rejectReturn",
        "cancelReturn",
        "createReturnFulfillment",
    ):
        assert cell(outcome, op)["status"] == "untested"
        assert cell(outcome, op)["reasons"] == ["writes_not_allowed"]


def test_request_budget_leaves_the_rest_untested(
    faulty: Callable[..., Outcome], tmp_path: Path
) -> None:
    config = tmp_path / "budget.toml"
    config.write_text("max_requests = 15\n")
    outcome = faulty([], "--config", str(config), "--allow-writes")
    assert sum(outcome.injector.methods.values()) <= 15
    reasons = {r for c in outcome.matrix["operations"].values() for r in c["reasons"]}
    assert "budget_exhausted" in reasons
    assert outcome.matrix["operations"]["createReturn"]["status"] in ("untested", "supported")


def test_writes_touch_only_the_suites_own_returns(faulty: Callable[..., Outcome]) -> None:
    """seller-decides has only customer-made returns (EBAY-R-…): without --act-on-existing the
    suite must not approve, reject or cancel a single one of them."""
    outcome = faulty([], "--allow-writes", platform="seller-decides")
    assert outcome.code in (0, 1), outcome.err
    acted = [
        p
        for p in outcome.injector.posts
        if "/returns/EBAY-R-" in p and p.rsplit("/", 1)[-1] in ("approve", "reject", "cancel")
    ]
    assert acted == [], acted
    assert outcome.injector.posts, "writes were allowed, so some POSTs were expected"
    for op in ("approveReturn", "rejectReturn"):
        got = cell(outcome, op)
        assert got["status"] == "untested", (op, got)
        assert got["reasons"] == ["prerequisite_unavailable"], got


async def _redirect(inj: FaultInjector, scope: Scope, receive: Receive, send: Send) -> None:
    await _respond(send, 302, b"", [(b"location", inj.redirect_to.encode())])


def test_redirects_are_not_followed_to_another_host(faulty: Callable[..., Outcome]) -> None:
    """A redirect to another port must not carry the token there: it is not followed at all."""
    elsewhere = FaultInjector(create_app(load_profile("full-manual"), TOKEN), [])
    with serving(elsewhere) as other:
        FaultInjector.redirect_to = f"{other.base_url}/api/v2/orders/SHOP-1001/returns"
        outcome = faulty([Fault("GET", "/SHOP-1001/returns", "redirect")], "--allow-writes")
    assert sum(elsewhere.methods.values()) == 0, elsewhere.methods
    got = cell(outcome, "listOrderReturns")
    assert got["status"] == "failing" and "undocumented_status" in got["reasons"]


def test_the_suite_cancels_the_returns_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    monkeypatch.setenv("CONFORMANCE_TOKEN", TOKEN)
    with serving(create_app(load_profile("full-manual"), TOKEN)) as served:
        code = main(
            [
                "run",
                "--base-url",
                served.base_url,
                "--platform",
                "shop",
                "--allow-writes",
                "--max-examples",
                "3",
                "--output-dir",
                str(tmp_path),
            ]
        )
        client = httpx.Client(
            base_url=served.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        orders = client.get("/api/v2/orders", params={"limit": "250"}).json()["orders"]
        ours = [
            ret
            for order in orders
            for ret in client.get(
                f"/api/v2/orders/{order['id']}/returns", params={"limit": "250"}
            ).json()["returns"]
            if "returns conformance suite" in (ret.get("note") or "")
        ]
        client.close()
    capsys.readouterr()
    assert code == 0
    assert ours, "the run created returns, each tagged with the suite's note"
    left_open = [r["returnOrderId"] for r in ours if r["status"] in ("requested", "approved")]
    assert left_open == []
    report = json.loads((tmp_path / "reports" / "shop" / "findings.json").read_text())
    listed = {c["id"]: c["status"] for c in report["created"] if c["kind"] == "return"}
    own = {r["returnOrderId"] for r in ours}
    assert own <= set(listed), "every return the run created is listed in its report"
    assert not {rid for rid, status in listed.items() if status in ("requested", "approved")}


def test_invalid_schema_files_are_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conformance import schemas

    broken = tmp_path / "schemas"
    broken.mkdir()
    for source in schemas.schema_dir().iterdir():
        (broken / source.name).write_bytes(source.read_bytes())
    (broken / "return.schema.json").write_text("{ not json")
    monkeypatch.setattr(schemas, "schema_dir", lambda: broken)
    schemas._loaded.cache_clear()
    schemas.validator.cache_clear()
    try:
        code = main(["run", "--platform", "no-returns", "--output-dir", str(tmp_path / "out")])
    finally:
        schemas._loaded.cache_clear()
        schemas.validator.cache_clear()
    out, err = capsys.readouterr()
    assert code == 2
    assert "return.schema.json" in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err
    assert not (tmp_path / "out" / "capability_matrices" / "no-returns.json").exists()


def test_invalid_config_toml_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("seed = [unterminated\n")
    code = main(["run", "--config", str(config)])
    _, err = capsys.readouterr()
    assert code == 2 and "not valid TOML" in err and len(err.strip().splitlines()) == 1


# ---- transient answers (contract section 2) ----------------------------------------------------

FAST_RETRY = ("--retry-pause", "0.01")  # the backoff without Retry-After, kept short here


def test_a_502_then_success_is_a_note_with_the_count(faulty: Callable[..., Outcome]) -> None:
    """One 502 without Retry-After, then served: the cell stays supported, and the matrix, the
    note, the terminal and the report all say one request needed a retry."""
    outcome = faulty(
        [Fault("GET", "/SHOP-R-9001", "bad_gateway", times=1)], "--allow-writes", *FAST_RETRY
    )
    got = cell(outcome, "getReturn")
    assert got["status"] == "supported", got["reasons"]
    assert got["retried"] == {"requests": 1, "answers": {"502": 1}, "exhausted": 0}
    assert "1 request needed a retry (502 ×1), and then succeeded" in got["notes"]
    assert "retried requests on shop: getReturn 1 (502 ×1)" in outcome.out
    assert "retried requests 1 (502 ×1)" in outcome.files  # the HTML report
    # the matrix with `retried` is one its schema accepts, and reads back the same
    from conformance import schemas
    from conformance.results import MATRIX_SCHEMA, PlatformResult

    assert schemas.violations(MATRIX_SCHEMA, outcome.matrix) == []
    again = PlatformResult.from_json(outcome.matrix)
    retried = again.cell("getReturn").retried
    assert retried is not None and retried.requests == 1 and retried.answers == (("502", 1),)
    assert again.to_json()["operations"] == outcome.matrix["operations"]


def test_the_same_5xx_every_time_while_others_succeed_is_failing(
    faulty: Callable[..., Outcome],
) -> None:
    """One return always answers 503 while every other request is served: a 5xx on that
    input, not a passing failure of the store."""
    outcome = faulty([Fault("GET", "/SHOP-R-9001", "unavailable")], "--allow-writes", *FAST_RETRY)
    got = cell(outcome, "getReturn")
    assert got["status"] == "failing" and "server_error" in got["reasons"], got["reasons"]
    finding = next(f for f in got["findings"] if f["reason"] == "server_error")
    assert "answered 503 the same 4 times" in finding["message"], finding["message"]
    assert "while the requests around it succeeded" in finding["message"]
    assert finding["evidence"] and finding["evidence"][0]["response"]["status"] == 503
    assert got["retried"]["exhausted"] >= 1
    others = [op for op, c in outcome.matrix["operations"].items() if c["status"] == "failing"]
    assert others == ["getReturn"], others


def test_a_store_that_is_down_is_inconclusive_never_failing(
    faulty: Callable[..., Outcome], tmp_path: Path
) -> None:
    """The orders are listed, then every request about returns answers 503 (that part of the
    store is down): no request of the same operation succeeds around any of them, so nothing
    is decided: platform_error, never failing (the orders list that still works is no
    evidence about returns). The schemathesis stage's retries are tested with that stage."""
    config = tmp_path / "no-schemathesis.toml"
    config.write_text("schemathesis = false\n")
    outcome = faulty(
        [
            Fault("GET", "/api/v2/orders", "serve"),
            Fault("GET", "", "unavailable"),
            Fault("POST", "", "unavailable"),
        ],
        "--allow-writes",
        "--config",
        str(config),
        *FAST_RETRY,
    )
    assert "Traceback" not in outcome.err and outcome.matrix, outcome.err
    assert outcome.code == 1, outcome.err  # nothing decided fails the gate; never 2 once started
    cells = outcome.matrix["operations"]
    assert not [op for op, c in cells.items() if c["status"] == "failing"], cells
    tried = [c for c in cells.values() if c["status"] == "inconclusive"]
    assert tried and all("platform_error" in c["reasons"] for c in tried), cells
    assert cells["listReturns"]["reasons"] == ["platform_error"]
    assert outcome.seconds < BOUND


def test_throttled_forever_without_retry_after_is_rate_limited(
    faulty: Callable[..., Outcome],
) -> None:
    outcome = faulty(
        [Fault("GET", "/fulfillments", "throttle_plain")], "--allow-writes", *FAST_RETRY
    )
    got = cell(outcome, "listReturnFulfillments")
    assert got["status"] == "inconclusive" and got["reasons"] == ["rate_limited"]
    assert got["retried"]["answers"] == {"429": 3 * got["retried"]["requests"]}


class StallFirstCreate:
    """The store writes the first well-formed return the suite creates, but the answer comes
    too late (after the client's timeout): the write happened, its answer was lost."""

    def __init__(self, app: Any, note: str) -> None:
        self.app, self.note = app, note
        self.stalled: dict[str, Any] | None = None  # the return the lost answer carried

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            self.stalled is None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/returns")
        ):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            sent = json.loads(raw)["return"]
            ours = sent.get("note") == self.note and all(
                isinstance(i.get("quantity"), int) for i in sent["items"]
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            ours = False

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        if not ours:
            await self.app(scope, replay, send)
            return
        kept: list[dict[str, Any]] = []

        async def hold(message: dict[str, Any]) -> None:
            kept.append(message)

        await self.app(scope, replay, hold)  # the store writes it
        body = b"".join(m.get("body", b"") for m in kept if m["type"] == "http.response.body")
        self.stalled = json.loads(body)["return"]
        await asyncio.sleep(1.6)  # past the client's 1 s timeout
        try:
            for message in kept:
                await send(message)
        except Exception:  # the client is gone
            pass


def test_a_create_that_timed_out_after_the_write_makes_no_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The suite reads the order's returns back before sending the create again: it finds the
    return the lost answer would have named, adopts it, and never makes a second one unknown
    to its report."""
    import httpx

    seed = 4
    note = f"created by the returns conformance suite (seed {seed})"
    stall = StallFirstCreate(create_app(load_profile("full-manual"), TOKEN), note)
    monkeypatch.setenv("CONFORMANCE_TOKEN", TOKEN)
    out_dir = tmp_path / "out"
    with serving(stall) as served:
        code = main(
            [
                "run",
                "--base-url",
                served.base_url,
                "--platform",
                "shop",
                "--allow-writes",
                "--max-examples",
                "0",
                "--timeout",
                "1",
                "--seed",
                str(seed),
                "--output-dir",
                str(out_dir),
            ]
        )
        client = httpx.Client(
            base_url=served.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert stall.stalled is not None, "the suite made no well-formed return"
        order = stall.stalled["orderId"]
        on_order = client.get(f"/api/v2/orders/{order}/returns", params={"limit": "250"}).json()[
            "returns"
        ]
        client.close()
    capsys.readouterr()
    assert code in (0, 1)
    report = json.loads((out_dir / "reports" / "shop" / "findings.json").read_text())
    created = {c["id"] for c in report["created"] if c["kind"] == "return"}
    assert stall.stalled["returnOrderId"] in created, "the stalled return was adopted"
    ours = {
        r["returnOrderId"] for r in on_order if "returns conformance suite" in (r.get("note") or "")
    }
    assert ours <= created, f"returns the suite made without knowing it: {ours - created}"
    matrix = json.loads((out_dir / "capability_matrices" / "shop.json").read_text())
    got = matrix["operations"]["createReturn"]
    assert any("a write timed out but had taken effect" in n for n in got["notes"]), got["notes"]
    assert got["status"] == "supported", got["reasons"]
